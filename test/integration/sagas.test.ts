import { statSync } from 'node:fs';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import decommission from '../../sagas/decommission.js';
import provisioning from '../../sagas/provisioning.js';
import { openDatabase } from '../../src/store/database.js';
import { readCommands } from '../support/commands.js';
import {
  connected,
  interfaceAdded,
  linkId,
  registered,
  removed,
  severed,
} from '../support/infrastructureEvents.js';
import { startNatsServer, type TestNatsServer } from '../support/natsServer.js';
import { createTestRuntime, tempDir } from '../support/runtimeHarness.js';
import { waitFor } from '../support/waitFor.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sagas on a real nats-server', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  const publish = async (...events: { subject: string; data: Uint8Array }[]) => {
    const js = jetstream(nc);
    for (const e of events) await js.publish(e.subject, e.data);
  };
  /** Waits until the COMMANDS stream holds `n` messages. */
  const commandsAfter = async (n: number) => {
    const jsm = await jetstreamManager(nc);
    for (let i = 0; i < 100 && (await jsm.streams.info('COMMANDS')).state.messages < n; i++) await sleep(100);
    return readCommands(jetstream(nc), jsm);
  };

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.cleanup();
  });
  beforeEach(async () => {
    const jsm = await jetstreamManager(nc);
    for (const s of ['INFRASTRUCTURE_EVENTS', 'COMMANDS']) await jsm.streams.delete(s).catch(() => {});
  });

  describe('when a connected resource is decommissioned', () => {
    it('publishes one SeverConnection per connection to COMMANDS, with Nats-Msg-Id = command_id and the causing ids', async () => {
      const t = createTestRuntime(server.url, { sagas: [decommission, provisioning] });
      try {
        await t.runtime.start();
        const removal = removed('r1');
        await publish(registered('r1'), connected('r1', 'r2'), connected('r3', 'r1'), removal);
        await t.runtime.caughtUp();
        const commands = (await commandsAfter(2)).filter((c) => c.command_type === 'SeverConnection');
        const cause = JSON.parse(new TextDecoder().decode(removal.data)).data.ResourceRemoved;
        expect(commands).toHaveLength(2);
        for (const c of commands) {
          expect(c.subject).toBe('commands.infrastructure.SeverConnection');
          expect(c.msgId).toBe(c.command_id);
          expect(c).toMatchObject({
            aggregate_id: 'r1',
            correlation_id: cause.correlation_id,
            causation_id: cause.event_id,
          });
        }
        expect(
          commands
            .map((c) => (c.data as { connection: { from_resource: string } }).connection.from_resource)
            .sort(),
        ).toEqual(['r1', 'r3']);
        const status = await t.runtime.status();
        expect(status.sagas.find((s) => s.name === 'decommission')).toMatchObject({
          activeInstances: 1,
          outboxPending: 0,
        });
        expect(status.sagas.find((s) => s.name === 'decommission')?.nextTimeoutAt).toBeTruthy();
      } finally {
        await t.cleanup();
      }
    });
  });

  describe('when the decommission timeout comes due while the worker is down', () => {
    it('fires at the next start, once, and reports the connections still active', async () => {
      const dir = tempDir();
      const config = { sagas: [decommission], workers: { decommission: { timeouts: { stuck: '1s' } } } };
      const first = createTestRuntime(server.url, config, { dir });
      await first.runtime.start();
      await publish(registered('r1'), connected('r1', 'r2'), removed('r1'));
      await first.runtime.caughtUp();
      await commandsAfter(1);
      await first.runtime.drain();
      await sleep(1_500); // the timeout comes due while nothing runs

      const second = createTestRuntime(server.url, config, { dir });
      try {
        await second.runtime.start();
        const commands = await commandsAfter(2);
        expect(commands.map((c) => c.command_type)).toEqual(['SeverConnection', 'ReportStuckDecommission']);
        expect(commands[1]?.data).toEqual({ resource_id: 'r1', remaining: [linkId('r1', 'r2')] });
        await second.runtime.drain();
        const third = createTestRuntime(server.url, config, { dir });
        await third.runtime.start();
        await sleep(500);
        await third.cleanup();
        expect(await commandsAfter(2)).toHaveLength(2);
      } finally {
        await second.cleanup();
      }
    });
  });

  describe('when a registered resource gets an interface on a network in time', () => {
    it('publishes ApplyBaselinePolicy and never DecommissionResource', async () => {
      const t = createTestRuntime(server.url, {
        sagas: [provisioning],
        workers: { provisioning: { timeouts: { deadline: '1s' } } },
      });
      try {
        await t.runtime.start();
        await publish(registered('p1'), interfaceAdded('p1', 'lan'), registered('p2'), severed('p2', 'p3'));
        await t.runtime.caughtUp();
        await sleep(1_500);
        const commands = await commandsAfter(2);
        expect(commands.map((c) => [c.command_type, c.aggregate_id])).toEqual([
          ['ApplyBaselinePolicy', 'p1'],
          ['DecommissionResource', 'p2'],
        ]);
        expect(commands[1]?.data).toEqual({ resource_id: 'p2', reason: 'provisioning timed out' });
      } finally {
        await t.cleanup();
      }
    });
  });

  describe('when the clock passes the retentions while the saga worker runs', () => {
    it('deletes published commands after 1h, ended timers after 1d and finished records after 7d, never a pending timer', async () => {
      const clock = { t: Date.now(), now: () => clock.t };
      const t = createTestRuntime(
        server.url,
        { sagas: [decommission], workers: { decommission: { timeouts: { stuck: '30d' } } } },
        { clock },
      );
      const db = openDatabase(t.sqlitePath);
      const rows = () => ({
        published: db
          .prepare('SELECT count(*) FROM prosa_outbox WHERE published_at IS NOT NULL')
          .pluck()
          .get(),
        unpublished: db.prepare('SELECT count(*) FROM prosa_outbox WHERE published_at IS NULL').pluck().get(),
        timers: db.prepare('SELECT instance, status FROM prosa_timers ORDER BY instance').all(),
        finished: db.prepare('SELECT instance FROM prosa_saga_finished').pluck().all(),
      });
      try {
        await t.runtime.start();
        // r1: severed after its removal, so it finishes (timer cancelled); r5 still waits (timer pending).
        await publish(registered('r1'), connected('r1', 'r2'), removed('r1'), severed('r1', 'r2'));
        await publish(registered('r5'), connected('r5', 'r6'), removed('r5'));
        await t.runtime.caughtUp();
        await commandsAfter(2);
        await waitFor('both commands marked published', () => rows().published === 2);
        expect(rows()).toEqual({
          published: 2,
          unpublished: 0,
          timers: [
            { instance: 'r1', status: 'cancelled' },
            { instance: 'r5', status: 'pending' },
          ],
          finished: ['r1'],
        });

        clock.t += 2 * 3_600_000;
        await waitFor('published commands pruned', () => rows().published === 0);
        expect(rows()).toMatchObject({
          timers: [{ status: 'cancelled' }, { status: 'pending' }],
          finished: ['r1'],
        });

        clock.t += 8 * 86_400_000;
        await waitFor('ended timers and finished records pruned', () => rows().finished.length === 0);
        expect(rows()).toEqual({
          published: 0,
          unpublished: 0,
          timers: [{ instance: 'r5', status: 'pending' }],
          finished: [],
        });

        const { database } = await t.runtime.status();
        expect(database).toMatchObject({ path: t.sqlitePath, pageSize: 4_096 });
        expect(database?.bytes).toBeGreaterThan(0);
        expect(database?.walBytes).toBe(statSync(`${t.sqlitePath}-wal`).size);
      } finally {
        db.close();
        await t.cleanup();
      }
    });
  });
});
