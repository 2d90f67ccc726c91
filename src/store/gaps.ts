/** Gaps (`prosa_gaps`): messages the stream's limits dropped before a worker applied them. */
import type { SqliteDatabase } from './sqlite.js';

export const GAPS_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS prosa_gaps (
     worker TEXT NOT NULL,
     from_seq INTEGER NOT NULL,
     to_seq INTEGER NOT NULL,
     detected_at TEXT NOT NULL,
     PRIMARY KEY (worker, from_seq)
   )`,
];

export interface Gap {
  from: number;
  to: number;
}

/** Records a gap once (the same gap seen at each restart is one row). */
export function recordGap(db: SqliteDatabase, worker: string, gap: Gap, at: string): void {
  db.prepare(
    'INSERT OR IGNORE INTO prosa_gaps (worker, from_seq, to_seq, detected_at) VALUES (?, ?, ?, ?)',
  ).run(worker, gap.from, gap.to, at);
}

/** A worker's gaps in stream order; prepared once. */
export function createGapLister(db: SqliteDatabase): (worker: string) => Gap[] {
  const list = db.prepare(
    'SELECT from_seq AS "from", to_seq AS "to" FROM prosa_gaps WHERE worker = ? ORDER BY from_seq',
  );
  return (worker) => list.all(worker) as Gap[];
}

/** Adds the attached schema `from`'s gaps of a worker to the main schema's. */
export function copyGaps(db: SqliteDatabase, from: string, worker: string): void {
  db.prepare(`INSERT OR IGNORE INTO main.prosa_gaps SELECT * FROM ${from}.prosa_gaps WHERE worker = ?`).run(
    worker,
  );
}
