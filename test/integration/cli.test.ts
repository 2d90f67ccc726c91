import { existsSync } from 'node:fs';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliProject, runCli, spawnCli } from '../support/cliHarness.js';
import { ledger, ledgerFixed } from '../support/fixtures/ledger.js';
import { startNatsServer, type TestNatsServer } from '../support/natsServer.js';
import { createTestRuntime } from '../support/runtimeHarness.js';
import { waitFor } from '../support/waitFor.js';

const ledgerConfig = `{
  streams: { LEDGER: { mode: 'managed', subjects: ['ledger.>'] } },
  projections: [ledger],
  http: { enabled: false },
  defaults: { batch: { maxMessages: 20, maxWaitMs: 20 } },
}`;
const ledgerImports = { ledger: 'test/support/fixtures/ledgerDefault.ts' };

const workerRow = (path: string) => {
  if (!existsSync(path)) return undefined;
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare("SELECT pid, state FROM prosa_workers WHERE worker = 'ledger'").get() as
      | { pid: number | null; state: string }
      | undefined;
  } catch {
    return undefined; // not created yet
  } finally {
    db.close();
  }
};

describe('the prosa command', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  const publish = async (...bodies: string[]) => {
    const js = jetstream(nc);
    for (const b of bodies) await js.publish('ledger.a', b);
  };
  const balance = (path: string) => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare("SELECT balance FROM accounts WHERE id = 'a'").pluck().get();
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.cleanup();
  });

  describe('when the config has a bad value', () => {
    it('exits 2 naming the field and what is allowed', async () => {
      const project = cliProject(
        server.url,
        `{ streams: { INFRASTRUCTURE_EVENTS: { duplicateWindow: 'soon' } } }`,
      );
      const run = await runCli(project, ['status']);
      expect(run.code).toBe(2);
      expect(run.err).toContain(
        'streams.INFRASTRUCTURE_EVENTS.duplicateWindow: expected a duration like "2m", got "soon"',
      );
    });
  });

  describe('when no worker runs', () => {
    it('status --json reads SQLite and the stream', async () => {
      const project = cliProject(server.url, ledgerConfig, ledgerImports);
      const run = await runCli(project, ['status', '--json']);
      expect(run.code).toBe(0);
      const status = JSON.parse(run.out);
      expect(status.projections[0]).toMatchObject({
        name: 'ledger',
        stream: 'LEDGER',
        consumer: 'ledger',
        checkpoint: 0,
        state: 'never run',
      });
      expect(status.sagas).toEqual([]);
      expect(status.database).toEqual({
        path: project.sqlitePath,
        bytes: 0,
        walBytes: 0,
        pageSize: null,
        pages: null,
        freePages: null,
      });
    });
  });

  describe('when a worker runs in another process', () => {
    it('pause stops it after its batch, status shows it, and resume catches up', async () => {
      const project = cliProject(server.url, ledgerConfig, ledgerImports);
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'LEDGER', subjects: ['ledger.>'] }).catch(() => {});
      await jsm.streams.purge('LEDGER');
      const first = await jsm.streams.info('LEDGER');
      const base = first.state.last_seq;
      const t = createTestRuntime(
        server.url,
        { streams: { LEDGER: { subjects: ['ledger.>'] } }, projections: [ledger] },
        { dir: project.dir },
      );
      try {
        await t.runtime.start();
        await publish(
          JSON.stringify({ type: 'Opened', account: 'a' }),
          JSON.stringify({ type: 'Deposited', account: 'a', amount: 1 }),
        );
        await t.runtime.caughtUp();

        const paused = await runCli(project, ['pause', 'ledger', '--reason', 'maintenance']);
        expect(paused.code).toBe(0);
        expect(JSON.parse(paused.out)).toMatchObject({ worker: 'ledger', via: 'running worker' });
        await publish(JSON.stringify({ type: 'Deposited', account: 'a', amount: 10 }));
        await new Promise((r) => setTimeout(r, 300));
        expect(balance(project.sqlitePath)).toBe(1);
        const table = await runCli(project, ['status']);
        expect(table.out).toMatch(/ledger\s+projection\s+paused\s+/);
        expect(table.out).toContain('ledger: maintenance');
        const size = '\\d+(\\.\\d)? (B|KiB|MiB)';
        expect(table.out).toMatch(
          new RegExp(
            `\\nDATABASE  ${project.sqlitePath}  ${size} \\+ WAL ${size}, ${size} free \\(\\d+ of \\d+ pages\\)\\n`,
          ),
        );

        const resumed = await runCli(project, ['resume', 'ledger']);
        expect(JSON.parse(resumed.out)).toMatchObject({ via: 'running worker' });
        await t.runtime.caughtUp();
        expect(balance(project.sqlitePath)).toBe(11);
        expect((await t.runtime.status()).projections[0]).toMatchObject({
          checkpoint: base + 3,
          state: 'running',
        });
      } finally {
        await t.cleanup();
      }
    });
  });

  describe('when a second worker is started on the same database', () => {
    it('refuses while the first runs, naming it and its pid, and starts once the first was killed -9', async () => {
      const project = cliProject(server.url, ledgerConfig, ledgerImports);
      const first = spawnCli(project, ['run']);
      try {
        await waitFor('the first worker', () => workerRow(project.sqlitePath)?.pid === first.pid, 20_000);

        const second = await runCli(project, ['run']);
        expect(second.code).toBe(1);
        expect(second.err).toContain('PROSA_WORKER_RUNNING');
        expect(second.err).toContain(`ledger is already running in process ${first.pid}`);
        expect(workerRow(project.sqlitePath)?.pid).toBe(first.pid);

        first.kill('SIGKILL');
        await new Promise((r) => first.once('exit', r));
        let stop!: (s: string) => void;
        const third = runCli(project, ['run'], new Promise<string>((r) => (stop = r)));
        await waitFor('this worker', () => workerRow(project.sqlitePath)?.pid === process.pid, 20_000);
        stop('SIGTERM');
        expect((await third).code).toBe(0);
      } finally {
        first.kill('SIGKILL');
      }
    });

    it('lets another process start once the first drained, though the first process lives on', async () => {
      const project = cliProject(server.url, ledgerConfig, ledgerImports);
      let stop!: (s: string) => void;
      const inProcess = runCli(project, ['run'], new Promise<string>((r) => (stop = r)));
      await waitFor('this worker', () => workerRow(project.sqlitePath)?.pid === process.pid, 20_000);
      stop('SIGTERM');
      expect((await inProcess).code).toBe(0);
      expect(workerRow(project.sqlitePath)).toMatchObject({ pid: null, state: 'stopped' });

      const other = spawnCli(project, ['run']);
      try {
        await waitFor('the other worker', () => workerRow(project.sqlitePath)?.pid === other.pid, 20_000);
      } finally {
        other.kill('SIGKILL');
      }
    });
  });

  describe('when a bad event is dead-lettered', () => {
    const setUp = async () => {
      const project = cliProject(server.url, ledgerConfig, ledgerImports);
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'LEDGER', subjects: ['ledger.>'] }).catch(() => {});
      await jsm.streams.purge('LEDGER');
      await jsm.streams.purge('DLQ').catch(() => {});
      const broken = createTestRuntime(
        server.url,
        { streams: { LEDGER: { subjects: ['ledger.>'] } }, projections: [ledger] },
        { dir: project.dir },
      );
      await broken.runtime.start();
      await publish(
        JSON.stringify({ type: 'Opened', account: 'a' }),
        JSON.stringify({ type: 'Explode', account: 'a' }),
        JSON.stringify({ type: 'Deposited', account: 'a', amount: 5 }),
      );
      await broken.runtime.caughtUp();
      await broken.runtime.drain(); // drains the dead letter dispatcher too
      return project;
    };
    /** The stream sequence of the one dead letter (the stream is purged, not recreated, between tests). */
    const deadSeq = async (project: Parameters<typeof runCli>[0]) =>
      (JSON.parse((await runCli(project, ['dlq', 'ls', '--json'])).out) as { seq: number }[])[0]?.seq;
    const events = (path: string) => {
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare("SELECT events FROM accounts WHERE id = 'a'").pluck().get();
      } finally {
        db.close();
      }
    };

    it('dlq ls shows it with its original subject, body and reason', async () => {
      const project = await setUp();
      const letters = JSON.parse(
        (await runCli(project, ['dlq', 'ls', '--json', '--consumer', 'ledger'])).out,
      ) as Record<string, unknown>[];
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({
        consumer: 'ledger',
        stream: 'LEDGER',
        subject: 'ledger.a',
        body: '{"type":"Explode","account":"a"}',
      });
      expect(letters[0]?.reason).toContain('applying Explode to account a failed: boom');
    });

    it('dlq ls and status say that the later deposit of the account waits behind it', async () => {
      const project = await setUp();
      const letters = JSON.parse((await runCli(project, ['dlq', 'ls', '--json'])).out);
      expect(letters[0]).toMatchObject({ waiting: 1 });
      expect((await runCli(project, ['dlq', 'ls'])).out).toContain('(1 event waiting behind it)');
      expect(JSON.parse((await runCli(project, ['status', '--json'])).out).projections[0].waiting).toBe(1);
      expect(events(project.sqlitePath)).toBe(1);
    });

    it('a retry while still broken dead-letters it again with the new attempt, with no worker running', async () => {
      const project = await setUp();
      const run = await runCli(project, ['dlq', 'retry', 'ledger', '--all']);
      expect(run.out).toContain('retried 1 via sqlite: 0 applied, 1 dead-lettered again');
      expect(JSON.parse((await runCli(project, ['dlq', 'ls', '--json'])).out)).toHaveLength(1);
      // Only Opened: the deposit still waits behind the dead letter.
      expect(events(project.sqlitePath)).toBe(1);
    });

    it('dlq skip with no worker running gives up on it and applies the deposit that waited', async () => {
      const project = await setUp();
      const seq = String(await deadSeq(project));
      const run = await runCli(project, ['dlq', 'skip', 'ledger', '--seq', seq]);
      expect(run.out).toContain(
        `skipped dead letter ${seq} of ledger via sqlite; released 1 waiting event: 1 applied, 0 dead-lettered`,
      );
      expect(events(project.sqlitePath)).toBe(2);
      expect(JSON.parse((await runCli(project, ['dlq', 'ls', '--json'])).out)).toEqual([]);
      expect((await runCli(project, ['dlq', 'skip', 'ledger', '--seq', seq])).code).not.toBe(0);
    });

    it('dlq skip goes through the running worker, which applies the deposit that waited', async () => {
      const project = await setUp();
      const running = createTestRuntime(
        server.url,
        { streams: { LEDGER: { subjects: ['ledger.>'] } }, projections: [ledger] },
        { dir: project.dir },
      );
      try {
        await running.runtime.start();
        const run = await runCli(project, ['dlq', 'skip', 'ledger', '--seq', String(await deadSeq(project))]);
        expect(run.out).toContain('via running worker; released 1 waiting event: 1 applied');
        expect(events(project.sqlitePath)).toBe(2);
        expect((await running.runtime.status()).projections[0]?.waiting).toBe(0);
      } finally {
        await running.cleanup();
      }
    });

    it('after the fix, dlq retry feeds it to the running worker once, and a second retry finds nothing to do', async () => {
      const project = await setUp();
      const fixed = createTestRuntime(
        server.url,
        { streams: { LEDGER: { subjects: ['ledger.>'] } }, projections: [ledgerFixed] },
        { dir: project.dir },
      );
      try {
        await fixed.runtime.start();
        const first = await runCli(project, ['dlq', 'retry', 'ledger', '--all']);
        expect(first.out).toContain('retried 1 via running worker: 1 applied, 0 dead-lettered again');
        // The deposit that waited behind it follows, in order.
        expect(first.out).toMatch(/#\d+: released 1 waiting event: 1 applied, 0 dead-lettered/);
        expect(events(project.sqlitePath)).toBe(3);
        const second = await runCli(project, ['dlq', 'retry', 'ledger', '--all']);
        expect(second.out).toContain('retried 0');
        expect(events(project.sqlitePath)).toBe(3);
        expect(JSON.parse((await runCli(project, ['dlq', 'ls', '--json'])).out)).toEqual([]);
        expect((await fixed.runtime.status()).projections[0]?.deadLettered).toBe(0);
      } finally {
        await fixed.cleanup();
      }
    });

    it('dlq purge removes it and status no longer counts it', async () => {
      const project = await setUp();
      expect((await runCli(project, ['dlq', 'purge', 'ledger'])).out).toContain(
        'purged 1 dead letters of ledger',
      );
      expect(JSON.parse((await runCli(project, ['dlq', 'ls', '--json'])).out)).toEqual([]);
      expect(JSON.parse((await runCli(project, ['status', '--json'])).out).projections[0].deadLettered).toBe(
        0,
      );
    });
  });
});
