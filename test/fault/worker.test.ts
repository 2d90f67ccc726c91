import type { ChildProcess } from 'node:child_process';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import topology from '../../projections/topology.js';
import { decodeInfrastructureEvent } from '../../src/cim/infrastructure.js';
import type { RawEvent } from '../../src/define/projection.js';
import { listDeadLetters } from '../../src/ops/deadLetters.js';
import { cleanReplay } from '../../src/testkit/replay.js';
import { publishAll } from '../bench/support.js';
import { badInfrastructureEvents, seedInfrastructureEvents } from '../support/cimEvents.js';
import { cliProject, spawnCli } from '../support/cliHarness.js';
import { startNatsServer, type TestNatsServer, waitForStream } from '../support/natsServer.js';
import { readTopologyFile, referenceTopology } from '../support/referenceTopology.js';
import { createTestRuntime, tempDir } from '../support/runtimeHarness.js';

const readModel = readTopologyFile;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Publishes at about `perSecond`, in slices, so a worker has time to be killed in the middle. */
async function publishPaced(
  nc: NatsConnection,
  events: readonly RawEvent[],
  perSecond: number,
): Promise<void> {
  const slice = Math.max(1, Math.round(perSecond / 10));
  for (let i = 0; i < events.length; i += slice) {
    const started = Date.now();
    await publishAll(jetstream(nc), events.slice(i, i + slice), 200);
    await sleep(Math.max(0, 100 - (Date.now() - started)));
  }
}

describe('the topology worker under faults', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({
      servers: server.url,
      noAsyncTraces: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.cleanup();
  });

  describe('when the worker process is killed -9 at 20 random points of a 20,000-event run', () => {
    it('loses nothing and applies nothing twice: the read model equals the reference', async () => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete('INFRASTRUCTURE_EVENTS').catch(() => {});
      const events = seedInfrastructureEvents(20_000, { keys: 2_000, seed: 9 });
      const project = cliProject(
        server.url,
        '{ projections: [topology], http: { enabled: false }, defaults: { batch: { maxMessages: 500, maxWaitMs: 50 } } }',
        {
          topology: 'projections/topology.ts',
        },
      );
      const spawnWorker = () => spawnCli(project, ['run']);
      let worker: ChildProcess = spawnWorker();
      // The worker creates the stream (external: get-or-create) before anything is published.
      await waitForStream(jsm, 'INFRASTRUCTURE_EVENTS');
      const publishing = publishPaced(nc, events, 1_000);
      let kills = 0;
      while (kills < 20) {
        await sleep(300 + Math.floor(Math.random() * 1_200));
        worker.kill('SIGKILL');
        await new Promise((r) => worker.once('exit', r));
        kills++;
        worker = spawnWorker();
      }
      await publishing;
      const deadline = Date.now() + 60_000;
      const checkpoint = () => {
        const db = new Database(project.sqlitePath, { readonly: true });
        try {
          return db.prepare("SELECT seq FROM prosa_checkpoints WHERE worker = 'topology'").pluck().get() as
            | number
            | undefined;
        } finally {
          db.close();
        }
      };
      while ((checkpoint() ?? 0) < events.length && Date.now() < deadline) await sleep(200);
      // A SIGTERM before node has even loaded the command would be the default (kill), not a drain.
      for (let i = 0; i < 50; i++) {
        const db = new Database(project.sqlitePath, { readonly: true });
        const up = db
          .prepare('SELECT count(*) FROM prosa_workers WHERE pid = ?')
          .pluck()
          .get(worker.pid) as number;
        db.close();
        if (up > 0) break;
        await sleep(100);
      }
      worker.kill('SIGTERM');
      const code = await new Promise((r) => worker.once('exit', r));
      expect(code).toBe(0);
      expect(kills).toBe(20);
      expect(checkpoint()).toBe(events.length);
      expect(readModel(project.sqlitePath)).toEqual(referenceTopology(events.map(decodeInfrastructureEvent)));
    });
  });

  describe('when nats-server restarts in the middle of a run', () => {
    it('the worker reconnects, resumes and the read model equals the reference', async () => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete('INFRASTRUCTURE_EVENTS').catch(() => {});
      const events = seedInfrastructureEvents(6_000, { keys: 600, seed: 13 });
      const t = createTestRuntime(server.url, {
        projections: [topology],
        defaults: { batch: { maxMessages: 200, maxWaitMs: 50 } },
      });
      try {
        await t.runtime.start();
        await publishAll(jetstream(nc), events.slice(0, 3_000));
        await sleep(50);
        await server.restart();
        // Wait for the publisher's connection to be back before publishing the rest.
        await waitForStream(jsm, 'INFRASTRUCTURE_EVENTS');
        await publishAll(jetstream(nc), events.slice(3_000));
        await t.runtime.caughtUp({ timeoutMs: 60_000 });
        expect(readModel(t.sqlitePath)).toEqual(referenceTopology(events.map(decodeInfrastructureEvent)));
      } finally {
        await t.cleanup();
      }
    });
  });

  describe('when every kind of bad input is among good events, with a restart in between', () => {
    it('dead-letters each bad message exactly once with its reason and applies the rest', async () => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete('INFRASTRUCTURE_EVENTS').catch(() => {});
      await jsm.streams.delete('DLQ').catch(() => {});
      const good = seedInfrastructureEvents(400, { keys: 100, seed: 21 });
      const bad = badInfrastructureEvents();
      // Interleave: every 20th message is a bad one.
      const mixed: { subject: string; data: Uint8Array; bad?: (typeof bad)[number] }[] = [];
      let b = 0;
      good.forEach((g, i) => {
        mixed.push(g);
        if (i % 20 === 10 && b < bad.length) {
          const sample = bad[b++] as (typeof bad)[number];
          mixed.push({ subject: sample.raw.subject, data: sample.raw.data, bad: sample });
        }
      });
      while (b < bad.length) {
        const sample = bad[b++] as (typeof bad)[number];
        mixed.push({ subject: sample.raw.subject, data: sample.raw.data, bad: sample });
      }
      const dir = tempDir();
      const first = createTestRuntime(server.url, { projections: [topology] }, { dir });
      await first.runtime.start();
      await publishAll(jetstream(nc), mixed.slice(0, Math.floor(mixed.length / 2)), 1);
      await first.runtime.caughtUp({ timeoutMs: 30_000 });
      await first.runtime.drain();
      const second = createTestRuntime(server.url, { projections: [topology] }, { dir });
      try {
        await second.runtime.start();
        await publishAll(jetstream(nc), mixed.slice(Math.floor(mixed.length / 2)), 1);
        await second.runtime.caughtUp({ timeoutMs: 30_000 });
        await sleep(500);
        const published = mixed.map((m, i) => ({ ...m, seq: i + 1 }));
        const onTopologySubjects = published.filter((m) => m.subject.startsWith('infrastructure.'));
        // A bad event whose entities are known holds their later events back (a bad one among them
        // waits too, and is dead-lettered when released): the same ones as in one clean in-memory
        // pass, and the reference is given neither the bad nor the waiting.
        const clean = cleanReplay(topology, onTopologySubjects);
        const waitingDb = new Database(second.sqlitePath, { readonly: true });
        const waiting = waitingDb
          .prepare("SELECT stream_seq FROM prosa_waiting WHERE worker = 'topology' ORDER BY stream_seq")
          .pluck()
          .all() as number[];
        waitingDb.close();
        expect(waiting).toEqual(clean.waiting);
        clean.db.close();
        const expectedBad = onTopologySubjects.filter((m) => m.bad && !waiting.includes(m.seq));
        // In the DLQ stream: each bad message once, with its original sequence, subject, body and reason.
        const letters = await listDeadLetters(jetstream(nc), jsm, 'topology');
        expect(letters.map((l) => l.seq)).toEqual(expectedBad.map((m) => m.seq));
        letters.forEach((l, i) => {
          const m = expectedBad[i] as (typeof expectedBad)[number];
          expect(l.subject).toBe(m.subject);
          expect(Buffer.from(l.data).equals(Buffer.from(m.data))).toBe(true);
          expect(l.reason).toContain((m.bad as (typeof bad)[number]).reason.slice(0, 60));
        });
        const db = new Database(second.sqlitePath, { readonly: true });
        const rows = db
          .prepare(
            "SELECT stream_seq AS seq, reason FROM prosa_dead_letters WHERE worker = 'topology' ORDER BY stream_seq",
          )
          .all() as { seq: number; reason: string }[];
        db.close();
        expect(rows.map((r) => r.seq)).toEqual(expectedBad.map((m) => m.seq));
        rows.forEach((r, i) => {
          const sample = expectedBad[i]?.bad as (typeof bad)[number];
          expect(r.reason).toContain(sample.reason);
        });
        const goodDecoded = onTopologySubjects
          .filter((m) => !m.bad && !waiting.includes(m.seq))
          .map((m) => decodeInfrastructureEvent(m));
        expect(readModel(second.sqlitePath)).toEqual(referenceTopology(goodDecoded));
        expect((await second.runtime.status()).projections[0]?.deadLettered).toBe(expectedBad.length);
      } finally {
        await second.cleanup();
      }
    });
  });
});
