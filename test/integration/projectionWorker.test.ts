import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LedgerEvent, ledger } from '../support/fixtures/ledger.js';
import { startNatsServer, type TestNatsServer } from '../support/natsServer.js';
import { createTestRuntime, tempDir } from '../support/runtimeHarness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const config = {
  streams: { LEDGER: { mode: 'managed' as const, subjects: ['ledger.>'] } },
  projections: [ledger],
  defaults: { batch: { maxMessages: 50, maxWaitMs: 50 } },
};

describe('projection worker on a real nats-server', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  const publish = async (events: readonly (LedgerEvent | string)[]) => {
    const js = jetstream(nc);
    for (const e of events) {
      await js.publish(
        typeof e === 'string' ? 'ledger.raw' : `ledger.${e.account}`,
        typeof e === 'string' ? e : JSON.stringify(e),
      );
    }
  };
  const rows = (path: string) => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare('SELECT id, balance, events FROM accounts ORDER BY id').all();
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

  describe('when events are published before and after the worker starts', () => {
    it('applies all of them, and caughtUp() says when', async () => {
      const t = createTestRuntime(server.url, config);
      try {
        const jsm = await jetstreamManager(nc);
        await jsm.streams.add({ name: 'LEDGER', subjects: ['ledger.>'] });
        await publish([
          { type: 'Opened', account: 'a' },
          { type: 'Deposited', account: 'a', amount: 5 },
        ]);
        await t.runtime.start();
        await publish(
          Array.from({ length: 120 }, (_, i) => ({ type: 'Deposited' as const, account: 'a', amount: i })),
        );
        await t.runtime.caughtUp({ timeoutMs: 10_000 });
        expect(rows(t.sqlitePath)).toEqual([{ id: 'a', balance: 5 + (119 * 120) / 2, events: 122 }]);
        const status = await t.runtime.status();
        expect(status.projections[0]).toMatchObject({
          name: 'ledger',
          stream: 'LEDGER',
          consumer: 'ledger',
          checkpoint: 122,
          streamLastSeq: 122,
          lag: 0,
          deadLettered: 0,
        });
      } finally {
        await t.cleanup();
        const jsm = await jetstreamManager(nc);
        await jsm.streams.delete('LEDGER');
      }
    });
  });

  describe('when a backlog is larger than batch.maxBytes', () => {
    it('commits it in batches of at most that many message bytes', async () => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'LEDGER', subjects: ['ledger.>'] });
      const events: LedgerEvent[] = [
        { type: 'Opened', account: 'c' },
        ...Array.from({ length: 59 }, () => ({ type: 'Deposited' as const, account: 'c', amount: 1 })),
      ];
      await publish(events);
      const largest = Math.max(...events.map((e) => JSON.stringify(e).length));
      // Room for five messages by bytes, though 50 by count.
      const t = createTestRuntime(server.url, {
        ...config,
        defaults: { batch: { maxMessages: 50, maxBytes: largest * 5, maxWaitMs: 50 } },
      });
      try {
        await t.runtime.start();
        await t.runtime.caughtUp({ timeoutMs: 10_000 });
        expect(rows(t.sqlitePath)).toEqual([{ id: 'c', balance: 59, events: 60 }]);
        const metrics = await t.runtime.metrics.registry.getSingleMetricAsString(
          'prosa_batch_commit_duration_seconds',
        );
        const batches = Number(/_count\{[^}]*worker="ledger"[^}]*\} (\d+)/.exec(metrics)?.[1]);
        expect(batches).toBeGreaterThanOrEqual(60 / 5);
      } finally {
        await t.cleanup();
        await jsm.streams.delete('LEDGER');
      }
    });
  });

  describe('when a bad event is among good ones', () => {
    it('dead-letters it once with its reason and applies the rest, also across a restart', async () => {
      const dir = tempDir();
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'LEDGER', subjects: ['ledger.>'] });
      await publish([
        { type: 'Opened', account: 'b' },
        'not json',
        { type: 'Deposited', account: 'b', amount: 3 },
      ]);
      const first = createTestRuntime(server.url, config, { dir });
      await first.runtime.start();
      await first.runtime.caughtUp({ timeoutMs: 10_000 });
      await first.runtime.drain();
      // A second run on the same database must not dead-letter it again.
      const second = createTestRuntime(server.url, config, { dir });
      await second.runtime.start();
      await second.runtime.caughtUp({ timeoutMs: 10_000 });
      await second.cleanup();
      expect(rows(`${dir}/prosa.db`)).toEqual([{ id: 'b', balance: 3, events: 2 }]);
      const dlq = await jsm.streams.info('DLQ', { subjects_filter: 'dlq.ledger' });
      expect(dlq.state.messages).toBe(1);
      const letter = await jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.ledger' });
      expect(letter?.string()).toBe('not json');
      expect(letter?.header.get('Prosa-Reason')).toBe('body is not JSON');
      expect(letter?.header.get('Prosa-Original-Seq')).toBe('2');
      expect(letter?.header.get('Prosa-Original-Subject')).toBe('ledger.raw');
      await jsm.streams.delete('LEDGER');
    });
  });

  describe('when a bad event is retried with backoff', () => {
    const retrying = {
      ...config,
      defaults: { batch: { maxMessages: 50, maxWaitMs: 50 }, retries: { attempts: 2, backoff: '300ms' } },
    };
    const state = async (t: ReturnType<typeof createTestRuntime>) =>
      (await t.runtime.status()).projections[0]?.state;

    it('tries it as often as configured, then dead-letters it and applies what follows', async () => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'LEDGER', subjects: ['ledger.>'] });
      await publish([
        { type: 'Opened', account: 'r' },
        'not json',
        { type: 'Deposited', account: 'r', amount: 4 },
      ]);
      const t = createTestRuntime(server.url, retrying);
      try {
        const started = performance.now();
        await t.runtime.start();
        await t.runtime.caughtUp({ timeoutMs: 10_000 });
        // Two tries after 300 ms and 600 ms before the dead letter.
        expect(performance.now() - started).toBeGreaterThanOrEqual(900);
        expect(rows(t.sqlitePath)).toEqual([{ id: 'r', balance: 4, events: 2 }]);
        expect((await t.runtime.status()).projections[0]).toMatchObject({ checkpoint: 3, deadLettered: 1 });
      } finally {
        await t.cleanup();
        await jsm.streams.delete('LEDGER');
      }
    });

    it('stays paused when paused while a retry is due', async () => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'LEDGER', subjects: ['ledger.>'] });
      await publish([
        { type: 'Opened', account: 'p' },
        'not json',
        { type: 'Deposited', account: 'p', amount: 1 },
      ]);
      const t = createTestRuntime(server.url, retrying);
      try {
        await t.runtime.start();
        // The first try stopped at the bad event: the worker says it is retrying (not stopped), due in 300 ms.
        for (let i = 0; i < 100 && (await state(t)) !== 'restarting'; i++) await sleep(20);
        expect(await state(t)).toBe('restarting');
        await t.runtime.pause('ledger', 'operator pause during a retry');
        await sleep(1_200);
        const status = (await t.runtime.status()).projections[0];
        expect(status).toMatchObject({ state: 'paused', checkpoint: 1 });
        await t.runtime.resume('ledger');
        await t.runtime.caughtUp({ timeoutMs: 10_000 });
        expect(rows(t.sqlitePath)).toEqual([{ id: 'p', balance: 1, events: 2 }]);
      } finally {
        await t.cleanup();
        await jsm.streams.delete('LEDGER');
      }
    });
  });
});
