/**
 * What each running worker last said about itself (`prosa_workers`), written once a second for
 * `prosa status` in another terminal; the row's pid is also this process's claim on the worker.
 */

import { hostname } from 'node:os';
import { ProsaError } from '../errors.js';
import type { Clock } from '../time/clock.js';
import { pidAlive } from './liveness.js';
import type { SqliteDatabase } from './sqlite.js';

export const WORKERS_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS prosa_workers (
     worker TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     state TEXT NOT NULL,
     pid INTEGER,
     live_actors INTEGER NOT NULL DEFAULT 0,
     rate REAL NOT NULL DEFAULT 0,
     detail TEXT,
     updated_at TEXT NOT NULL
   )`,
];

/** Every state a worker can be in, in lifecycle order. */
export const WORKER_STATES = [
  'starting',
  'running',
  'catching up',
  'restarting',
  'paused',
  'rebuilding',
  'stopped',
] as const;

export type WorkerState = (typeof WORKER_STATES)[number];

export interface WorkerRow {
  worker: string;
  /** 'projection' or 'saga'; empty in a row a claim wrote before the worker reported. */
  kind: string;
  state: WorkerState;
  pid: number | null;
  liveActors: number;
  rate: number;
  detail: string | null;
  /** RFC 3339. */
  updatedAt: string;
}

/** Writes a worker's row (the reporter's once-a-second write); prepared once. */
export function createWorkerRowWriter(db: SqliteDatabase): (row: WorkerRow) => void {
  const upsert = db.prepare(
    `INSERT INTO prosa_workers (worker, kind, state, pid, live_actors, rate, detail, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (worker) DO UPDATE SET kind = excluded.kind, state = excluded.state, pid = excluded.pid, live_actors = excluded.live_actors,
       rate = excluded.rate, detail = excluded.detail, updated_at = excluded.updated_at`,
  );
  return (r) => {
    upsert.run(r.worker, r.kind, r.state, r.pid, r.liveActors, r.rate, r.detail, r.updatedAt);
  };
}

/** A worker's row, if it ever ran; prepared once. */
export function createWorkerRowReader(db: SqliteDatabase): (worker: string) => WorkerRow | undefined {
  const row = db.prepare(
    'SELECT worker, kind, state, pid, live_actors AS liveActors, rate, detail, updated_at AS updatedAt FROM prosa_workers WHERE worker = ?',
  );
  return (worker) => row.get(worker) as WorkerRow | undefined;
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
export function claimWorkers(db: SqliteDatabase, workers: readonly string[], clock: Clock): void {
  const claim = db.prepare(
    `INSERT INTO prosa_workers (worker, kind, state, pid, updated_at) VALUES (?, '', 'starting', ?, ?)
     ON CONFLICT (worker) DO UPDATE SET state = excluded.state, pid = excluded.pid, updated_at = excluded.updated_at`,
  );
  db.transaction(() => {
    const at = clock.now();
    for (const worker of workers) {
      const pid = workerHeldElsewhere(db, worker, clock);
      if (pid !== undefined) {
        throw new ProsaError(
          'PROSA_WORKER_RUNNING',
          `${worker} is already running in process ${pid} on ${hostname()} with this database (${db.name}); stop that process first, or give this one its own database (PROSA_DB)`,
        );
      }
      claim.run(worker, process.pid, new Date(at).toISOString());
    }
  }).immediate();
}

/**
 * The pid of another live process that holds `worker` in this database (see {@link claimWorkers}),
 * or undefined: a change written straight to SQLite under a running worker would not reach its memory.
 */
export function workerHeldElsewhere(db: SqliteDatabase, worker: string, clock: Clock): number | undefined {
  const held = db
    .prepare('SELECT pid, updated_at AS updatedAt FROM prosa_workers WHERE worker = ?')
    .get(worker) as { pid: number | null; updatedAt: string } | undefined;
  if (!held?.pid || held.pid === process.pid) return undefined;
  if (clock.now() - Date.parse(held.updatedAt) >= CLAIM_STALE_MS || !pidAlive(held.pid)) return undefined;
  return held.pid;
}

/** Lets go of this process's workers once they have drained (their rows stay, for `prosa status`). */
export function releaseWorkers(db: SqliteDatabase, workers: readonly string[]): void {
  const release = db.prepare('UPDATE prosa_workers SET pid = NULL WHERE worker = ? AND pid = ?');
  db.transaction(() => {
    for (const worker of workers) release.run(worker, process.pid);
  })();
}
