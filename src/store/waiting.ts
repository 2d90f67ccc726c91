/**
 * Events that wait behind a dead letter of their entity (`prosa_parked`, `prosa_waiting`), so an
 * entity's order holds around a bad event: `prosa_parked` says which seq each parked entity waits
 * behind (the latest of its chain: a dead letter or a waiting event), `prosa_waiting` holds each
 * waiting event's body and the seqs it still waits for. Both are small, loaded whole when an engine
 * starts, and written in the batch transaction.
 */
import type { SqliteDatabase } from './sqlite.js';

export const WAITING_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS prosa_parked (
     worker TEXT NOT NULL,
     kind TEXT NOT NULL,
     key TEXT NOT NULL,
     behind_seq INTEGER NOT NULL,
     PRIMARY KEY (worker, kind, key)
   )`,
  `CREATE TABLE IF NOT EXISTS prosa_waiting (
     worker TEXT NOT NULL,
     stream_seq INTEGER NOT NULL,
     subject TEXT NOT NULL,
     body BLOB NOT NULL,
     after TEXT NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (worker, stream_seq)
   )`,
];

export interface ParkedRow {
  kind: string;
  key: string;
  behindSeq: number;
}

export interface WaitingRow {
  seq: number;
  subject: string;
  body: Uint8Array;
  /** The seqs it still waits for (dead letters or other waiting events). */
  after: number[];
}

/** A worker's parked entities and waiting events (waiting in stream order). */
export function loadWaiting(
  db: SqliteDatabase,
  worker: string,
): { parked: ParkedRow[]; waiting: WaitingRow[] } {
  const parked = db
    .prepare('SELECT kind, key, behind_seq AS behindSeq FROM prosa_parked WHERE worker = ?')
    .all(worker) as ParkedRow[];
  const rows = db
    .prepare(
      'SELECT stream_seq AS seq, subject, body, after FROM prosa_waiting WHERE worker = ? ORDER BY stream_seq',
    )
    .all(worker) as { seq: number; subject: string; body: Uint8Array; after: string }[];
  return { parked, waiting: rows.map((r) => ({ ...r, after: JSON.parse(r.after) as number[] })) };
}

export interface WaitingWriter {
  park(kind: string, key: string, behindSeq: number): void;
  unpark(kind: string, key: string): void;
  addWaiting(row: WaitingRow, at: string): void;
  setAfter(seq: number, after: readonly number[]): void;
  removeWaiting(seq: number): void;
}

/** One worker's writes, in the caller's transaction; statements prepared once. */
export function createWaitingWriter(db: SqliteDatabase, worker: string): WaitingWriter {
  const park = db.prepare(
    'INSERT INTO prosa_parked (worker, kind, key, behind_seq) VALUES (?, ?, ?, ?) ON CONFLICT (worker, kind, key) DO UPDATE SET behind_seq = excluded.behind_seq',
  );
  const unpark = db.prepare('DELETE FROM prosa_parked WHERE worker = ? AND kind = ? AND key = ?');
  const add = db.prepare(
    'INSERT OR REPLACE INTO prosa_waiting (worker, stream_seq, subject, body, after, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const setAfter = db.prepare('UPDATE prosa_waiting SET after = ? WHERE worker = ? AND stream_seq = ?');
  const remove = db.prepare('DELETE FROM prosa_waiting WHERE worker = ? AND stream_seq = ?');
  return {
    park: (kind, key, seq) => void park.run(worker, kind, key, seq),
    unpark: (kind, key) => void unpark.run(worker, kind, key),
    addWaiting: (r, at) => void add.run(worker, r.seq, r.subject, r.body, JSON.stringify(r.after), at),
    setAfter: (seq, after) => void setAfter.run(JSON.stringify(after), worker, seq),
    removeWaiting: (seq) => void remove.run(worker, seq),
  };
}

/** The stream sequences of a worker's waiting events, ascending. */
export function listWaitingSeqs(db: SqliteDatabase, worker: string): number[] {
  return db
    .prepare('SELECT stream_seq FROM prosa_waiting WHERE worker = ? ORDER BY stream_seq')
    .pluck()
    .all(worker) as number[];
}

/** How many events of a worker wait behind a dead letter; prepared once. */
export function createWaitingCounter(db: SqliteDatabase): (worker: string) => number {
  const count = db.prepare('SELECT count(*) FROM prosa_waiting WHERE worker = ?').pluck();
  return (worker) => count.get(worker) as number;
}

/**
 * How many waiting events each blocker holds back, directly or through other waiting events: by
 * the blocker's seq (dead letters and waiting events alike).
 */
export function countWaitingBehind(db: SqliteDatabase, worker: string): Map<number, number> {
  const { waiting } = loadWaiting(db, worker);
  const behind = new Map<number, Set<number>>(); // waiting seq -> every seq it waits for, transitively
  const counts = new Map<number, number>();
  for (const w of waiting) {
    const all = new Set<number>();
    for (const a of w.after) {
      all.add(a);
      for (const b of behind.get(a) ?? []) all.add(b);
    }
    behind.set(w.seq, all);
    for (const a of all) counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  return counts;
}

/** The seqs a worker's parked entities and waiting events wait for directly (dead letters or waiting events). */
export function blockingSeqs(db: SqliteDatabase, worker: string): Set<number> {
  const { parked, waiting } = loadWaiting(db, worker);
  const seqs = new Set<number>(parked.map((p) => p.behindSeq));
  for (const w of waiting) for (const a of w.after) seqs.add(a);
  return seqs;
}

/** Replaces a worker's parked entities and waiting events with those of the attached schema `from`. */
export function copyWaiting(db: SqliteDatabase, from: string, worker: string): void {
  db.prepare('DELETE FROM main.prosa_parked WHERE worker = ?').run(worker);
  db.prepare('DELETE FROM main.prosa_waiting WHERE worker = ?').run(worker);
  db.prepare(`INSERT INTO main.prosa_parked SELECT * FROM ${from}.prosa_parked WHERE worker = ?`).run(worker);
  db.prepare(`INSERT INTO main.prosa_waiting SELECT * FROM ${from}.prosa_waiting WHERE worker = ?`).run(
    worker,
  );
}
