/**
 * What a worker says about itself: its state, recent events/s and live actors. Kept in memory for
 * `runtime.status()`, written to `prosa_workers` once a second for `prosa status` in another
 * terminal, and logged at info once every few seconds while busy (never once per event).
 */
import { hostname } from 'node:os';
import { ProsaError } from '../errors.js';
import type { Logger } from '../logger.js';
import { pidAlive } from '../ops/status.js';
import type { SqliteDatabase } from '../store/database.js';

export type WorkerState =
  | 'starting'
  | 'running'
  | 'catching up'
  | 'restarting'
  | 'paused'
  | 'rebuilding'
  | 'stopped';

export interface WorkerReporter {
  readonly state: WorkerState;
  readonly detail: string | undefined;
  /** Events per second over the last few seconds. */
  readonly rate: number;
  /** Messages the consumer said were still pending after the last batch. */
  readonly pending: number;
  set(state: 'running' | 'restarting' | 'stopped' | 'paused', detail?: string): void;
  batch(messages: number, ms: number, pending: number, checkpoint: number): void;
  start(): void;
  stop(): void;
}

const WRITE_EVERY_MS = 1_000;
const LOG_EVERY_MS = 5_000;

export function createWorkerReporter(o: {
  db: SqliteDatabase;
  worker: string;
  kind: 'projection' | 'saga';
  log: Logger;
  now: () => number;
  liveActors: () => number;
}): WorkerReporter {
  const upsert = o.db.prepare(
    `INSERT INTO prosa_workers (worker, kind, state, pid, live_actors, rate, detail, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (worker) DO UPDATE SET kind = excluded.kind, state = excluded.state, pid = excluded.pid, live_actors = excluded.live_actors,
       rate = excluded.rate, detail = excluded.detail, updated_at = excluded.updated_at`,
  );
  let state: WorkerState = 'starting';
  let detail: string | undefined;
  let pending = 0;
  let checkpoint = 0;
  // Events counted per one-second bucket, over the last five.
  const buckets = new Array<number>(5).fill(0);
  let bucketAt = Math.floor(o.now() / 1000);
  let sinceLog = 0;
  let lastLog = o.now();
  let timer: NodeJS.Timeout | undefined;

  const roll = () => {
    const nowSec = Math.floor(o.now() / 1000);
    while (bucketAt < nowSec) {
      bucketAt++;
      buckets[bucketAt % buckets.length] = 0;
      if (nowSec - bucketAt > buckets.length) bucketAt = nowSec;
    }
  };
  const rate = () => {
    roll();
    let sum = 0;
    for (const b of buckets) sum += b;
    return sum / buckets.length;
  };
  const write = () => {
    try {
      upsert.run(
        o.worker,
        o.kind,
        state,
        process.pid,
        o.liveActors(),
        rate(),
        detail ?? null,
        new Date(o.now()).toISOString(),
      );
    } catch (e) {
      o.log.debug({ err: e }, 'worker status not written');
    }
  };

  return {
    get state() {
      return state;
    },
    get detail() {
      return detail;
    },
    get rate() {
      return rate();
    },
    get pending() {
      return pending;
    },
    set(next, why) {
      if (next === 'running' && state !== 'running') o.log.info({ checkpoint }, 'consuming');
      state = next === 'running' && pending > 0 ? 'catching up' : next;
      detail = why;
      write();
    },
    batch(messages, _ms, pendingAfter, cp) {
      roll();
      buckets[bucketAt % buckets.length] = (buckets[bucketAt % buckets.length] ?? 0) + messages;
      pending = pendingAfter;
      checkpoint = cp;
      if (state === 'running' || state === 'catching up') state = pending > 0 ? 'catching up' : 'running';
      sinceLog += messages;
      const t = o.now();
      if (t - lastLog >= LOG_EVERY_MS) {
        if (sinceLog > 0) {
          o.log.info(
            {
              rate: Math.round((sinceLog * 1000) / (t - lastLog)),
              checkpoint: cp,
              lag: pending,
              liveActors: o.liveActors(),
            },
            'progress',
          );
        }
        sinceLog = 0;
        lastLog = t;
      }
    },
    start() {
      write();
      timer = setInterval(write, WRITE_EVERY_MS);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      state = 'stopped';
      write();
    },
  };
}

/** A claim older than this, or by a process that is gone, is stale. The reporter renews it each second. */
const CLAIM_STALE_MS = 30_000;

/**
 * Takes ownership of workers in this database for this process, or refuses: two processes consuming
 * into one SQLite file would share the durable consumer and apply each other's messages past their
 * checkpoints. A worker is held by another process while its `prosa_workers` row names a live pid
 * and was written in the last 30 s (a process killed with -9 holds nothing: its pid is gone; one that
 * drained let go with {@link releaseWorkers}; one stopped at a bad event still holds it, since
 * `prosa resume` restarts it there). Checked and written in one immediate transaction, so two starts
 * at once cannot both win.
 */
export function claimWorkers(db: SqliteDatabase, workers: readonly string[], now: () => number): void {
  const row = db.prepare('SELECT pid, updated_at AS updatedAt FROM prosa_workers WHERE worker = ?');
  const claim = db.prepare(
    `INSERT INTO prosa_workers (worker, kind, state, pid, updated_at) VALUES (?, '', 'starting', ?, ?)
     ON CONFLICT (worker) DO UPDATE SET state = excluded.state, pid = excluded.pid, updated_at = excluded.updated_at`,
  );
  db.transaction(() => {
    const at = now();
    for (const worker of workers) {
      const held = row.get(worker) as { pid: number | null; updatedAt: string } | undefined;
      if (
        held?.pid &&
        held.pid !== process.pid &&
        at - Date.parse(held.updatedAt) < CLAIM_STALE_MS &&
        pidAlive(held.pid)
      ) {
        throw new ProsaError(
          'PROSA_WORKER_RUNNING',
          `${worker} is already running in process ${held.pid} on ${hostname()} with this database (${db.name}); stop that process first, or give this one its own database (PROSA_DB)`,
        );
      }
      claim.run(worker, process.pid, new Date(at).toISOString());
    }
  }).immediate();
}

/** Lets go of this process's workers once they have drained (their rows stay, for `prosa status`). */
export function releaseWorkers(db: SqliteDatabase, workers: readonly string[]): void {
  const release = db.prepare('UPDATE prosa_workers SET pid = NULL WHERE worker = ? AND pid = ?');
  db.transaction(() => {
    for (const worker of workers) release.run(worker, process.pid);
  })();
}
