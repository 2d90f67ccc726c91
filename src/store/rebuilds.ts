/** Rebuild locks (`prosa_rebuilds`): one per projection; a row whose process died is taken over (resumed). */
import type { SqliteDatabase } from './sqlite.js';

export const REBUILDS_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS prosa_rebuilds (
     worker TEXT PRIMARY KEY,
     pid INTEGER NOT NULL,
     shadow_path TEXT NOT NULL,
     reason TEXT NOT NULL,
     started_at TEXT NOT NULL
   )`,
];

export interface RebuildLock {
  pid: number;
  startedAt: string;
}

export function readRebuildLock(db: SqliteDatabase, worker: string): RebuildLock | undefined {
  return db.prepare('SELECT pid, started_at AS startedAt FROM prosa_rebuilds WHERE worker = ?').get(worker) as
    | RebuildLock
    | undefined;
}

/** Takes (or takes over) the lock; the caller checked in the same transaction that nobody alive holds it. */
export function writeRebuildLock(
  db: SqliteDatabase,
  worker: string,
  lock: { pid: number; shadowPath: string; reason: string; startedAt: string },
): void {
  db.prepare(
    'INSERT INTO prosa_rebuilds (worker, pid, shadow_path, reason, started_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (worker) DO UPDATE SET pid = excluded.pid, reason = excluded.reason, started_at = excluded.started_at',
  ).run(worker, lock.pid, lock.shadowPath, lock.reason, lock.startedAt);
}

export function releaseRebuildLock(db: SqliteDatabase, worker: string): void {
  db.prepare('DELETE FROM main.prosa_rebuilds WHERE worker = ?').run(worker);
}
