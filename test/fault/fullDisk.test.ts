/**
 * A full disk under a running worker, on a real filesystem: a small tmpfs holds the SQLite database
 * (WAL), a filler file takes its last free byte while events keep arriving, and then is deleted.
 * Mounting needs root (CI runs as root); elsewhere the file is skipped and says why.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import decommission from '../../sagas/decommission.js';
import provisioning from '../../sagas/provisioning.js';
import { resolveConfig } from '../../src/config/config.js';
import { silentLogger } from '../../src/logger.js';
import { applyStreams } from '../../src/nats/streams.js';
import { createRuntime, type Runtime } from '../../src/runtime/runtime.js';
import { replaySaga } from '../../src/testkit/sagaReplay.js';
import { publishAll } from '../bench/support.js';
import { readCommands } from '../support/commands.js';
import { type LedgerEvent, ledger } from '../support/fixtures/ledger.js';
import { sagaWorkload } from '../support/infrastructureEvents.js';
import { startNatsServer, type TestNatsServer } from '../support/natsServer.js';
import { waitFor } from '../support/waitFor.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pino line as the test reads it. */
interface LogLine {
  level: number;
  time: number;
  msg: string;
  projection?: string;
  saga?: string;
  err?: { message?: string };
  [field: string]: unknown;
}

/** A tmpfs of `size` mounted on a fresh directory, or why there is none. */
function mountTmpfs(size: string): { dir: string } | { skip: string } {
  if (process.platform !== 'linux') return { skip: 'needs Linux (tmpfs)' };
  if (process.getuid?.() !== 0) return { skip: 'needs root to mount a tmpfs (CI runs as root)' };
  const dir = mkdtempSync(join(tmpdir(), 'prosa-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `mount -t tmpfs failed: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}` };
  }
}

/** Writes `path` until the filesystem refuses: ENOSPC. Returns the bytes written. */
function fillDisk(path: string): number {
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    for (const chunk of [1 << 20, 4096, 1]) {
      const buf = Buffer.alloc(chunk, 1);
      for (;;) {
        try {
          written += writeSync(fd, buf);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

/** Deposits over `accounts` accounts, each opened first. */
function ledgerWorkload(accounts: number, deposits: number, seed: number): LedgerEvent[] {
  const events: LedgerEvent[] = [];
  for (let a = 0; a < accounts; a++) events.push({ type: 'Opened', account: `acc-${seed}-${a}` });
  for (let i = 0; i < deposits; i++)
    events.push({ type: 'Deposited', account: `acc-${seed}-${i % accounts}`, amount: (i * 7 + seed) % 100 });
  return events;
}

/** What the ledger's rows must be after `events`: each account's balance and event count. */
function expectedLedger(events: readonly LedgerEvent[]) {
  const rows = new Map<string, { id: string; balance: number; events: number }>();
  for (const e of events) {
    const row = rows.get(e.account) ?? { id: e.account, balance: 0, events: 0 };
    if (e.type === 'Deposited') row.balance += e.amount;
    row.events++;
    rows.set(e.account, row);
  }
  return [...rows.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const encoder = new TextEncoder();
const ledgerRaw = (events: readonly LedgerEvent[]) =>
  events.map((e) => ({ subject: `ledger.${e.account}`, data: encoder.encode(JSON.stringify(e)) }));

/** The ledger's rows, read beside the worker. */
function readLedger(sqlitePath: string) {
  const db = new Database(sqlitePath, { readonly: true });
  try {
    return db.prepare('SELECT id, balance, events FROM accounts ORDER BY id').all();
  } finally {
    db.close();
  }
}

/** Commands written to the outbox and not yet published. */
function unpublished(sqlitePath: string): number {
  const db = new Database(sqlitePath, { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM prosa_outbox WHERE published_at IS NULL').pluck().get() as number;
  } finally {
    db.close();
  }
}

const disk = mountTmpfs('16m');
const skip = 'skip' in disk ? disk.skip : undefined;
if (skip) console.warn(`test/fault/fullDisk.test.ts skipped: ${skip}`);

describe.skipIf(skip !== undefined)(
  `a full disk under a running worker${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    const dir = 'dir' in disk ? disk.dir : '';
    let server: TestNatsServer;
    let nc: NatsConnection;
    beforeAll(async () => {
      server = await startNatsServer();
      nc = await connect({ servers: server.url, noAsyncTraces: true });
    });
    afterAll(async () => {
      await nc?.close();
      await server?.cleanup();
      if (dir) {
        try {
          execFileSync('umount', [dir], { stdio: 'pipe' });
        } catch {
          execFileSync('umount', ['-l', dir], { stdio: 'pipe' }); // still open after a failure
        }
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('fails each commit loudly, retries with backoff, answers 503 why, and loses nothing once space is back', {
      timeout: 120_000,
    }, async () => {
      const sqlitePath = join(dir, 'prosa.db');
      const lines: LogLine[] = [];
      const log = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
      const config = resolveConfig(
        {
          nats: { url: server.url },
          dataDir: dir,
          sqlite: { path: sqlitePath },
          streams: { LEDGER: { mode: 'managed', subjects: ['ledger.>'] } },
          projections: [ledger],
          sagas: [decommission, provisioning],
          http: { port: 0 },
          defaults: { batch: { maxMessages: 50, maxWaitMs: 20 } },
        },
        { env: {} },
      );
      const runtime: Runtime = createRuntime(config, { log });
      const filler = join(dir, 'filler');
      try {
        await runtime.start();
        const js = jetstream(nc);
        const ledgerBefore = ledgerWorkload(20, 200, 1);
        const ledgerDuring = [...ledgerWorkload(20, 300, 2), ...ledgerWorkload(20, 100, 1).slice(20)];
        const sagaEvents = sagaWorkload(200);
        const half = Math.floor(sagaEvents.length / 2);
        await publishAll(js, ledgerRaw(ledgerBefore));
        await publishAll(js, sagaEvents.slice(0, half));
        await runtime.caughtUp({ timeoutMs: 30_000 });

        // Everything in the database file and an empty WAL: the next commit needs space the disk lacks.
        const side = new Database(sqlitePath);
        side.pragma('busy_timeout = 5000');
        side.pragma('wal_checkpoint(TRUNCATE)');
        side.close();
        fillDisk(filler);
        expect(statfsSync(dir).bavail).toBe(0);
        const fullAt = Date.now();
        await publishAll(js, ledgerRaw(ledgerDuring));
        await publishAll(js, sagaEvents.slice(half));

        // /healthz says 503 and why within a batch or two, and keeps saying it while commits fail.
        const samples: { at: number; status: number; reason: string | undefined }[] = [];
        while (Date.now() - fullAt < 4_500) {
          const res = await fetch(`${runtime.http?.url}/healthz`);
          const body = (await res.json()) as { reason?: string };
          samples.push({ at: Date.now() - fullAt, status: res.status, reason: body.reason });
          await sleep(50);
        }
        const first503 = samples.findIndex(
          (s) => s.status === 503 && s.reason?.includes('projection ledger'),
        );
        expect(first503).toBeGreaterThanOrEqual(0);
        expect(samples[first503]?.at).toBeLessThan(2_000);
        for (const s of samples.slice(first503)) {
          expect(s.status).toBe(503);
          expect(s.reason).toMatch(
            /projection ledger is restarting: batch not committed \(attempt \d+, retrying from checkpoint 220\): database or disk is full \(SQLITE_FULL\)/,
          );
        }
        expect(runtime.health().ok).toBe(false);

        // Each failure logged at error with the reason; retried after a wait that grows, nothing acked.
        const failures = lines.filter(
          (l) => l.projection === 'ledger' && l.level === 50 && l.msg.startsWith('batch not committed'),
        );
        expect(failures[0]?.msg).toBe(
          'batch not committed: database or disk is full (SQLITE_FULL); nothing acked, retrying from the checkpoint',
        );
        // 0.25, 0.5, 1, 2 s: 4 or 5 attempts in 4.5 s, where a hot loop would make hundreds.
        expect(failures.length).toBeGreaterThanOrEqual(4);
        expect(failures.length).toBeLessThanOrEqual(6);
        failures.slice(1).forEach((f, i) => {
          const before = failures[i] as LogLine;
          expect(f.time - before.time).toBeGreaterThanOrEqual((before.retryInMs as number) - 5);
        });
        expect(failures.map((f) => f.retryInMs).slice(0, 4)).toEqual([250, 500, 1_000, 2_000]);
        expect(new Set(failures.map((f) => f.checkpoint))).toEqual(new Set([ledgerBefore.length]));
        expect(readLedger(sqlitePath)).toEqual(expectedLedger(ledgerBefore));
        const sagaFailures = lines.filter(
          (l) => l.saga && l.level === 50 && l.msg.startsWith('batch not committed'),
        );
        expect(sagaFailures.length).toBeGreaterThan(0);

        // Space is back: every event applied once, every command published once.
        unlinkSync(filler);
        const freedAt = Date.now();
        await runtime.caughtUp({ timeoutMs: 30_000 });
        await waitFor('healthy', () => runtime.health().ok, 15_000);
        const recoveredMs = Date.now() - freedAt;
        expect(recoveredMs).toBeLessThan(12_000);
        expect(readLedger(sqlitePath)).toEqual(expectedLedger([...ledgerBefore, ...ledgerDuring]));
        expect((await fetch(`${runtime.http?.url}/healthz`)).status).toBe(200);
        expect(lines.some((l) => l.projection === 'ledger' && l.msg === 'batch committed again')).toBe(true);

        const clean = new Set([
          ...replaySaga(decommission, sagaEvents, [], { steps: [] }).published.keys(),
          ...replaySaga(provisioning, sagaEvents, [], { steps: [] }).published.keys(),
        ]);
        expect(clean.size).toBeGreaterThan(100);
        await waitFor('the outbox drained', () => unpublished(sqlitePath) === 0, 30_000);
        const ids = (await readCommands(js, await jetstreamManager(nc))).map((c) => c.command_id);
        expect(new Set(ids).size).toBe(ids.length); // none twice
        expect(new Set(ids)).toEqual(clean); // none lost, none extra
      } finally {
        rmSync(filler, { force: true });
        await runtime.drain();
      }
    });

    it('keeps commands published while their mark-done writes fail, and publishes none twice', {
      timeout: 120_000,
    }, async () => {
      const jsm = await jetstreamManager(nc);
      for (const stream of ['INFRASTRUCTURE_EVENTS', 'COMMANDS', 'DLQ'])
        await jsm.streams.delete(stream).catch(() => {});
      const sqlitePath = join(dir, 'outbox', 'prosa.db');
      const lines: LogLine[] = [];
      const log = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
      const config = resolveConfig(
        {
          nats: { url: server.url },
          dataDir: join(dir, 'outbox'),
          sqlite: { path: sqlitePath },
          sagas: [decommission, provisioning],
          http: { enabled: false },
          defaults: { batch: { maxMessages: 50, maxWaitMs: 20 } },
        },
        { env: {} },
      );
      const runtime = createRuntime(config, { log });
      const filler = join(dir, 'filler');
      try {
        await runtime.start();
        // No COMMANDS stream for a while: the sagas commit their commands, which wait in the outbox.
        await jsm.streams.delete('COMMANDS');
        const events = sagaWorkload(100);
        await publishAll(jetstream(nc), events);
        await runtime.caughtUp({ timeoutMs: 30_000 });
        const clean = new Set([
          ...replaySaga(decommission, events, [], { steps: [] }).published.keys(),
          ...replaySaga(provisioning, events, [], { steps: [] }).published.keys(),
        ]);
        expect(unpublished(sqlitePath)).toBe(clean.size);

        const side = new Database(sqlitePath);
        side.pragma('busy_timeout = 5000');
        side.pragma('wal_checkpoint(TRUNCATE)');
        side.close();
        fillDisk(filler);
        const fullAt = Date.now();
        await applyStreams(jsm, config.streams, silentLogger());
        // Published (the server acks), but not marked done: each saga's dispatcher says so at error and
        // publishes again after a growing wait, not in a loop; the outbox still holds every command.
        const markFailures = (saga: string) =>
          lines.filter((l) => l.saga === saga && l.time >= fullAt && l.level === 50);
        const sagas = ['decommission', 'provisioning'];
        await waitFor(
          'two failed rounds per saga',
          () => sagas.every((saga) => markFailures(saga).length >= 2),
          30_000,
        );
        expect(unpublished(sqlitePath)).toBe(clean.size);
        for (const saga of sagas) {
          const failures = markFailures(saga);
          for (const f of failures) {
            expect(f.msg).toBe(
              'commands published, but marking them done failed: database or disk is full; publishing them again (the stream drops the duplicates)',
            );
          }
          failures.slice(1).forEach((f, n) => {
            const before = failures[n] as LogLine;
            expect(f.retryInMs as number).toBeGreaterThanOrEqual(before.retryInMs as number);
            expect(f.time - before.time).toBeGreaterThanOrEqual((before.retryInMs as number) - 5);
          });
        }

        unlinkSync(filler);
        await waitFor('the outbox drained', () => unpublished(sqlitePath) === 0, 30_000);
        const ids = (await readCommands(jetstream(nc), jsm)).map((c) => c.command_id);
        expect(new Set(ids).size).toBe(ids.length); // none twice
        expect(new Set(ids)).toEqual(clean); // none lost, none extra
      } finally {
        rmSync(filler, { force: true });
        await runtime.drain();
      }
    });

    it('drains while the disk is full, and a restart with room applies what was left once', async () => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete('LEDGER').catch(() => {});
      const sqlitePath = join(dir, 'drain', 'prosa.db');
      const lines: LogLine[] = [];
      const log = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
      const config = resolveConfig(
        {
          nats: { url: server.url },
          dataDir: join(dir, 'drain'),
          sqlite: { path: sqlitePath },
          streams: { LEDGER: { mode: 'managed', subjects: ['ledger.>'] } },
          projections: [ledger],
          http: { enabled: false },
          defaults: { batch: { maxMessages: 50, maxWaitMs: 20 } },
        },
        { env: {} },
      );
      const filler = join(dir, 'filler');
      const before = ledgerWorkload(10, 100, 4);
      const during = ledgerWorkload(10, 100, 4).slice(10);
      const first = createRuntime(config, { log });
      try {
        await first.start();
        await publishAll(jetstream(nc), ledgerRaw(before));
        await first.caughtUp({ timeoutMs: 30_000 });
        const side = new Database(sqlitePath);
        side.pragma('busy_timeout = 5000');
        side.pragma('wal_checkpoint(TRUNCATE)');
        side.close();
        fillDisk(filler);
        await publishAll(jetstream(nc), ledgerRaw(during));
        await waitFor(
          'a failed commit',
          () => lines.some((l) => l.msg.startsWith('batch not committed')),
          10_000,
        );
        const drainStarted = Date.now();
        await first.drain();
        expect(Date.now() - drainStarted).toBeLessThan(5_000);
        expect(lines.at(-1)?.msg).toBe('stopped');
      } finally {
        rmSync(filler, { force: true });
        await first.drain();
      }
      expect(readLedger(sqlitePath)).toEqual(expectedLedger(before));
      const second = createRuntime(config, { log: silentLogger() });
      try {
        await second.start();
        await second.caughtUp({ timeoutMs: 30_000 });
        expect(readLedger(sqlitePath)).toEqual(expectedLedger([...before, ...during]));
      } finally {
        await second.drain();
      }
    });
  },
);
