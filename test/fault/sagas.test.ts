import type { ChildProcess } from 'node:child_process';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import decommission from '../../sagas/decommission.js';
import provisioning from '../../sagas/provisioning.js';
import { replaySaga } from '../../src/testkit/sagaReplay.js';
import { publishAll } from '../bench/support.js';
import { cliProject, spawnCli } from '../support/cliHarness.js';
import { readCommands } from '../support/commands.js';
import { sagaWorkload } from '../support/infrastructureEvents.js';
import { startNatsServer, type TestNatsServer, waitForStream } from '../support/natsServer.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the worker process `pid` has started its workers (it writes its status rows). */
async function runningAs(sqlitePath: string, pid: number): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const db = new Database(sqlitePath, { readonly: true });
    const up = db
      .prepare("SELECT count(*) FROM prosa_workers WHERE pid = ? AND state IN ('running', 'catching up')")
      .pluck()
      .get(pid) as number;
    db.close();
    if (up > 0) return;
    await sleep(100);
  }
  throw new Error(`worker ${pid} did not start`);
}

describe('sagas under kill -9 during dispatch', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url, noAsyncTraces: true });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.cleanup();
  });

  describe('when the worker is killed at 10 random points while it consumes and publishes commands', () => {
    it('COMMANDS holds each command of a clean pass exactly once', { timeout: 240_000 }, async () => {
      const events = sagaWorkload(400);
      const clean = new Set([
        ...replaySaga(decommission, events, [], { steps: [] }).published.keys(),
        ...replaySaga(provisioning, events, [], { steps: [] }).published.keys(),
      ]);
      expect(clean.size).toBeGreaterThan(500);

      const project = cliProject(
        server.url,
        '{ sagas: [decommission, provisioning], http: { enabled: false }, defaults: { batch: { maxMessages: 100, maxWaitMs: 20 } } }',
        {
          decommission: 'sagas/decommission.ts',
          provisioning: 'sagas/provisioning.ts',
        },
      );
      const jsm = await jetstreamManager(nc);
      let worker: ChildProcess = spawnCli(project, ['run']);
      await waitForStream(jsm, 'INFRASTRUCTURE_EVENTS');
      const publishing = (async () => {
        for (let i = 0; i < events.length; i += 100) {
          await publishAll(jetstream(nc), events.slice(i, i + 100), 100);
          await sleep(60);
        }
      })();
      for (let kills = 0; kills < 10; kills++) {
        await sleep(400 + Math.floor(Math.random() * 900));
        worker.kill('SIGKILL');
        await new Promise((r) => worker.once('exit', r));
        worker = spawnCli(project, ['run']);
      }
      await publishing;
      const outboxDrained = () => {
        const db = new Database(project.sqlitePath, { readonly: true });
        try {
          const checkpoints = db.prepare('SELECT min(seq) FROM prosa_checkpoints').pluck().get() as number;
          const pending = db
            .prepare('SELECT count(*) FROM prosa_outbox WHERE published_at IS NULL')
            .pluck()
            .get() as number;
          return checkpoints >= events.length && pending === 0;
        } finally {
          db.close();
        }
      };
      for (let i = 0; i < 300 && !outboxDrained(); i++) await sleep(200);
      await runningAs(project.sqlitePath, worker.pid as number);
      worker.kill('SIGTERM');
      expect(await new Promise((r) => worker.once('exit', r))).toBe(0);

      const commands = await readCommands(jetstream(nc), jsm);
      const ids = commands.map((c) => c.command_id);
      expect(new Set(ids).size).toBe(ids.length); // none twice
      expect(new Set(ids)).toEqual(clean); // none lost, none extra
    });
  });
});
