/** Messages an operator told a worker to skip (`prosa skip`, `prosa_skips`); they are dead-lettered with this reason. */
import type { SqliteDatabase } from './sqlite.js';

export const SKIPS_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS prosa_skips (
     worker TEXT NOT NULL,
     seq INTEGER NOT NULL,
     reason TEXT NOT NULL,
     PRIMARY KEY (worker, seq)
   )`,
];

export function recordSkip(db: SqliteDatabase, worker: string, seq: number, reason: string): void {
  db.prepare('INSERT OR REPLACE INTO prosa_skips (worker, seq, reason) VALUES (?, ?, ?)').run(
    worker,
    seq,
    reason,
  );
}

/** A worker's skips: the reason by stream sequence. */
export function readSkips(db: SqliteDatabase, worker: string): Map<number, string> {
  const rows = db.prepare('SELECT seq, reason FROM prosa_skips WHERE worker = ?').all(worker) as {
    seq: number;
    reason: string;
  }[];
  return new Map(rows.map((r) => [r.seq, r.reason]));
}
