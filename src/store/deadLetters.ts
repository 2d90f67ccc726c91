/**
 * Dead letters (`prosa_dead_letters`): written in the batch transaction and published to the DLQ
 * stream after it (an outbox), so each bad message reaches the stream once, across crashes; then
 * what an operator made of them (retried, purged).
 */

import { type Clock, isoNow } from '../time/clock.js';
import type { SqliteDatabase } from './sqlite.js';

export const DEAD_LETTERS_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS prosa_dead_letters (
     worker TEXT NOT NULL,
     stream TEXT NOT NULL,
     stream_seq INTEGER NOT NULL,
     subject TEXT NOT NULL,
     body BLOB NOT NULL,
     reason TEXT NOT NULL,
     created_at TEXT NOT NULL,
     published_at TEXT,
     attempts INTEGER NOT NULL DEFAULT 0,
     resolution TEXT,
     resolved_at TEXT,
     PRIMARY KEY (worker, stream_seq)
   )`,
];

/**
 * Inserts a dead letter (once per message) in the caller's transaction; prepared once. A message
 * delivered again (a saga reset) that fails again keeps its row, except one a retry had applied:
 * it opens again, to be published again under a new id.
 */
export function createDeadLetterWriter(
  db: SqliteDatabase,
): (
  worker: string,
  stream: string,
  seq: number,
  subject: string,
  body: Uint8Array,
  reason: string,
  at: string,
) => void {
  const insert = db.prepare(
    `INSERT INTO prosa_dead_letters (worker, stream, stream_seq, subject, body, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (worker, stream_seq) DO UPDATE SET resolution = NULL, resolved_at = NULL, published_at = NULL,
       attempts = attempts + 1, reason = excluded.reason WHERE prosa_dead_letters.resolution = 'retried'`,
  );
  return (worker, stream, seq, subject, body, reason, at) => {
    insert.run(worker, stream, seq, subject, body, reason, at);
  };
}

/** A dead letter not published to the DLQ stream yet. */
export interface UnpublishedDeadLetter {
  stream: string;
  stream_seq: number;
  subject: string;
  body: Uint8Array;
  reason: string;
  /** Failed retries so far: each one is published again under a new message id. */
  attempts: number;
}

export interface DeadLetterOutbox {
  /** The next page of unresolved dead letters to publish, in stream order. */
  pending(): UnpublishedDeadLetter[];
  /** Marks rows published, in one transaction. */
  markPublished(rows: readonly UnpublishedDeadLetter[], at: string): void;
}

/** One worker's dead letters as an outbox, statements prepared once. */
export function createDeadLetterOutbox(db: SqliteDatabase, worker: string): DeadLetterOutbox {
  const select = db.prepare(
    'SELECT stream, stream_seq, subject, body, reason, attempts FROM prosa_dead_letters WHERE worker = ? AND published_at IS NULL AND resolution IS NULL ORDER BY stream_seq LIMIT 500',
  );
  const mark = db.prepare(
    'UPDATE prosa_dead_letters SET published_at = ? WHERE worker = ? AND stream_seq = ?',
  );
  const markAll = db.transaction((rows: readonly UnpublishedDeadLetter[], at: string) => {
    for (const r of rows) mark.run(at, worker, r.stream_seq);
  });
  return {
    pending: () => select.all(worker) as UnpublishedDeadLetter[],
    markPublished: (rows, at) => markAll(rows, at),
  };
}

/** A worker's dead letters (resolved or not) in stream order, with their reasons. */
export function listDeadLetterReasons(db: SqliteDatabase, worker: string): { seq: number; reason: string }[] {
  return db
    .prepare('SELECT stream_seq AS seq, reason FROM prosa_dead_letters WHERE worker = ? ORDER BY stream_seq')
    .all(worker) as { seq: number; reason: string }[];
}

/** How many dead letters of a worker nobody resolved yet; prepared once. */
export function createUnresolvedCounter(db: SqliteDatabase): (worker: string) => number {
  const count = db
    .prepare('SELECT count(*) FROM prosa_dead_letters WHERE worker = ? AND resolution IS NULL')
    .pluck();
  return (worker) => count.get(worker) as number;
}

/** What became of a dead letter: applied by a retry, given up on by a skip, or left the DLQ by a purge. */
export type Resolution = 'retried' | 'skipped' | 'purged';

/** Whether a dead letter's resolution is one of `resolutions`; prepared once. */
export function createResolutionCheck(
  db: SqliteDatabase,
  resolutions: readonly Resolution[],
): (worker: string, seq: number) => boolean {
  const marks = resolutions.map(() => '?').join(', ');
  const found = db
    .prepare(
      `SELECT 1 FROM prosa_dead_letters WHERE worker = ? AND stream_seq = ? AND resolution IN (${marks})`,
    )
    .pluck();
  return (worker, seq) => found.get(worker, seq, ...resolutions) !== undefined;
}

/**
 * Whether a dead letter was already retried successfully or skipped (each is applied once, and a
 * skipped one never); prepared once.
 */
export const createRetriedCheck = (db: SqliteDatabase) => createResolutionCheck(db, ['retried', 'skipped']);

/** What feeding a dead letter again did: the engine's out-of-order outcome. */
export type RetryOutcome =
  | { seq: number; applied: true }
  | { seq: number; applied: false; reason: string; waitsBehind?: readonly number[] };

/**
 * Records a retry's outcome in the same transaction as its effects: applied -> resolved; failed
 * again -> the new reason and a new attempt, so the dispatcher publishes it again under a new id;
 * not tried -> unchanged.
 */
export function retryRecorder(
  db: SqliteDatabase,
  worker: string,
  stream: string,
  clock: Clock,
): (outcome: RetryOutcome) => void {
  const resolved = db.prepare(
    "INSERT INTO prosa_dead_letters (worker, stream, stream_seq, subject, body, reason, created_at, resolution, resolved_at) VALUES (?, ?, ?, '', x'', 'retried', ?, 'retried', ?) ON CONFLICT (worker, stream_seq) DO UPDATE SET resolution = 'retried', resolved_at = excluded.resolved_at",
  );
  const failed = db.prepare(
    'UPDATE prosa_dead_letters SET reason = ?, attempts = attempts + 1, published_at = NULL WHERE worker = ? AND stream_seq = ?',
  );
  return (outcome) => {
    // Not tried (it waits behind an earlier dead letter): the letter stays as it was.
    if (!outcome.applied && outcome.waitsBehind) return;
    const at = isoNow(clock);
    if (outcome.applied) resolved.run(worker, stream, outcome.seq, at, at);
    else failed.run(outcome.reason, worker, outcome.seq);
  };
}

/** A dead letter's resolution: undefined when there is no such dead letter, null while unresolved. */
export function readDeadLetterResolution(
  db: SqliteDatabase,
  worker: string,
  seq: number,
): string | null | undefined {
  const row = db
    .prepare('SELECT resolution FROM prosa_dead_letters WHERE worker = ? AND stream_seq = ?')
    .get(worker, seq) as { resolution: string | null } | undefined;
  return row?.resolution;
}

/** Marks a dead letter skipped (an operator gave up on it), in the caller's transaction. */
export function markDeadLetterSkipped(db: SqliteDatabase, worker: string, seq: number, at: string): void {
  db.prepare(
    "UPDATE prosa_dead_letters SET resolution = 'skipped', resolved_at = ? WHERE worker = ? AND stream_seq = ?",
  ).run(at, worker, seq);
}

/** Marks a worker's unresolved dead letters purged (they left the DLQ stream). */
export function markDeadLettersPurged(db: SqliteDatabase, worker: string, at: string): void {
  db.prepare(
    "UPDATE prosa_dead_letters SET resolution = 'purged', resolved_at = ? WHERE worker = ? AND resolution IS NULL",
  ).run(at, worker);
}

/** A worker's dead letters nobody resolved yet, in stream order. */
export function unresolvedDeadLetterSeqs(db: SqliteDatabase, worker: string): number[] {
  return db
    .prepare(
      'SELECT stream_seq FROM prosa_dead_letters WHERE worker = ? AND resolution IS NULL ORDER BY stream_seq',
    )
    .pluck()
    .all(worker) as number[];
}

/**
 * Brings a rebuilt model's dead letters (the attached schema `from`) into the main schema, in the
 * swap's transaction: the code that built the new model decides what is dead. A live letter it
 * applied (one it read: at or after `firstSeq`, the stream's first sequence) is resolved as applied;
 * one retried live that it cannot apply opens again, to be published under a new id; the others
 * are added, known ones kept (a skip or a purge stays: the rebuild skipped those too). Returns the
 * sequences it resolved, which leave the DLQ stream.
 */
export function mergeRebuiltDeadLetters(
  db: SqliteDatabase,
  from: string,
  worker: string,
  firstSeq: number,
  at: string,
): number[] {
  const deadThere = `SELECT stream_seq FROM ${from}.prosa_dead_letters WHERE worker = ? AND resolution IS NULL`;
  const applied = db
    .prepare(
      `SELECT stream_seq FROM main.prosa_dead_letters WHERE worker = ? AND resolution IS NULL AND stream_seq >= ?
         AND stream_seq NOT IN (SELECT stream_seq FROM ${from}.prosa_dead_letters WHERE worker = ?) ORDER BY stream_seq`,
    )
    .pluck()
    .all(worker, firstSeq, worker) as number[];
  const resolve = db.prepare(
    "UPDATE main.prosa_dead_letters SET resolution = 'retried', resolved_at = ? WHERE worker = ? AND stream_seq = ?",
  );
  for (const seq of applied) resolve.run(at, worker, seq);
  db.prepare(
    `UPDATE main.prosa_dead_letters SET resolution = NULL, resolved_at = NULL, published_at = NULL, attempts = attempts + 1,
       reason = (SELECT reason FROM ${from}.prosa_dead_letters s WHERE s.worker = main.prosa_dead_letters.worker AND s.stream_seq = main.prosa_dead_letters.stream_seq)
     WHERE worker = ? AND resolution = 'retried' AND stream_seq IN (${deadThere})`,
  ).run(worker, worker);
  db.prepare(
    `INSERT OR IGNORE INTO main.prosa_dead_letters SELECT * FROM ${from}.prosa_dead_letters WHERE worker = ?`,
  ).run(worker);
  return applied;
}
