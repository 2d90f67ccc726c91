/**
 * The saga command outbox (`prosa_outbox`): commands are written in the batch transaction and
 * published after it, each under its own id, then marked published. Each row has a position: for
 * an event's commands, the event's stream sequence times POSITIONS_PER_EVENT; for a timer firing
 * (or a dead letter retried) between events, the next free position after the checkpoint's (the
 * k-th firing at checkpoint C is at C × POSITIONS_PER_EVENT + k). The same events and the same
 * recorded firings give the same rows at the same positions in every process, so "everything up to
 * position P was published" (a saga lease's `through`) means the same rows everywhere.
 */

/** Positions between two events' (room for that many timer firings at one checkpoint). */
export const POSITIONS_PER_EVENT = 2 ** 20;
/** The outbox position of the commands an event (by stream sequence) caused. */
export const eventPosition = (seq: number): number => seq * POSITIONS_PER_EVENT;
/** The stream sequence after which a position's commands were written. */
export const eventOfPosition = (position: number): number => Math.floor(position / POSITIONS_PER_EVENT);

import type { SqliteDatabase } from './sqlite.js';

export const OUTBOX_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS prosa_outbox (
     command_id TEXT PRIMARY KEY,
     saga TEXT NOT NULL,
     instance TEXT NOT NULL,
     subject TEXT NOT NULL,
     body TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     published_at INTEGER,
     position INTEGER
   )`,
  `CREATE INDEX IF NOT EXISTS prosa_outbox_pending ON prosa_outbox (saga, published_at, created_at)`,
];

/** A command waiting to be published: `body` is the command as JSON. */
export interface OutboxCommand {
  commandId: string;
  subject: string;
  body: string;
  /** Null on rows written before positions existed: those are never taken as published by another process. */
  position: number | null;
}

/** Adds the position column to a database made before it existed (rows there keep NULL). */
export function upgradeOutbox(db: SqliteDatabase): void {
  const columns = db.prepare('PRAGMA table_info(prosa_outbox)').all() as { name: string }[];
  if (!columns.some((c) => c.name === 'position'))
    db.exec('ALTER TABLE prosa_outbox ADD COLUMN position INTEGER');
  // After the column: what a lease's position marks, and the highest one, are found by it.
  db.exec('CREATE INDEX IF NOT EXISTS prosa_outbox_position ON prosa_outbox (saga, position)');
}

/** Adds a command (once per id) in the caller's transaction; `at`: epoch ms. Prepared once. */
export function createOutboxWriter(
  db: SqliteDatabase,
): (
  commandId: string,
  saga: string,
  instance: string,
  subject: string,
  body: string,
  at: number,
  position: number,
) => void {
  const insert = db.prepare(
    'INSERT OR IGNORE INTO prosa_outbox (command_id, saga, instance, subject, body, created_at, position) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  return (commandId, saga, instance, subject, body, at, position) => {
    insert.run(commandId, saga, instance, subject, body, at, position);
  };
}

export interface OutboxReader {
  /** The oldest unpublished commands of a saga, in the order they were written. @default limit 500 */
  pending(saga: string, limit?: number): OutboxCommand[];
  /** Marks commands published (`at`: epoch ms), in one transaction. */
  markPublished(commands: readonly OutboxCommand[], at: number): void;
  /**
   * Marks every unpublished command of a saga at or below `position` published (another process
   * published them); returns how many.
   */
  markPublishedThrough(saga: string, position: number, at: number): number;
  /**
   * The highest position through which every command of the saga is published: one below the
   * lowest unpublished position, or, when none is unpublished, the checkpoint's position or the
   * highest row's, whichever is higher, but below the next event's.
   */
  publishedThrough(saga: string, checkpoint: number): number;
  /** The highest position of the saga's rows (0 when none). */
  highestPosition(saga: string): number;
}

/** What the dispatcher (and the test kit, standing in for it) reads and marks; prepared once. */
export function createOutboxReader(db: SqliteDatabase): OutboxReader {
  const pending = db.prepare(
    'SELECT command_id AS commandId, subject, body, position FROM prosa_outbox WHERE saga = ? AND published_at IS NULL ORDER BY created_at, rowid LIMIT ?',
  );
  const markThrough = db.prepare(
    'UPDATE prosa_outbox SET published_at = ? WHERE saga = ? AND published_at IS NULL AND position <= ?',
  );
  const lowestPending = db
    .prepare('SELECT min(coalesce(position, 0)) FROM prosa_outbox WHERE saga = ? AND published_at IS NULL')
    .pluck();
  const highest = db.prepare('SELECT coalesce(max(position), 0) FROM prosa_outbox WHERE saga = ?').pluck();
  const markOne = db.prepare('UPDATE prosa_outbox SET published_at = ? WHERE command_id = ?');
  const markAll = db.transaction((commands: readonly OutboxCommand[], at: number) => {
    for (const c of commands) markOne.run(at, c.commandId);
  });
  return {
    pending: (saga, limit = 500) => pending.all(saga, limit) as OutboxCommand[],
    markPublished: (commands, at) => markAll(commands, at),
    markPublishedThrough: (saga, position, at) => markThrough.run(at, saga, position).changes,
    publishedThrough: (saga, checkpoint) => {
      const lowest = lowestPending.get(saga) as number | null;
      // Never past the next event's position: its rows (and those of the events after it) are not
      // written yet, though a firing recorded by a process further ahead may sit beyond it.
      const top = Math.min(
        Math.max(eventPosition(checkpoint), highest.get(saga) as number),
        eventPosition(checkpoint + 1) - 1,
      );
      return lowest === null ? top : Math.min(top, lowest - 1);
    },
    highestPosition: (saga) => highest.get(saga) as number,
  };
}

/** A command of the outbox as an operator sees it: `createdAt`, `publishedAt` in epoch ms. */
export interface OutboxEntry {
  commandId: string;
  instance: string;
  subject: string;
  body: string;
  createdAt: number;
  publishedAt: number | null;
}

/** A saga's newest commands, unpublished ones first, at most `limit`. */
export function listOutbox(db: SqliteDatabase, saga: string, limit: number): OutboxEntry[] {
  return db
    .prepare(
      `SELECT command_id AS commandId, instance, subject, body, created_at AS createdAt, published_at AS publishedAt
         FROM prosa_outbox WHERE saga = ?
        ORDER BY published_at IS NOT NULL, created_at DESC, rowid DESC LIMIT ?`,
    )
    .all(saga, limit) as OutboxEntry[];
}

/** How many commands of a saga are not published yet; prepared once. */
export function createUnpublishedCounter(db: SqliteDatabase): (saga: string) => number {
  const count = db
    .prepare('SELECT count(*) FROM prosa_outbox WHERE saga = ? AND published_at IS NULL')
    .pluck();
  return (saga) => count.get(saga) as number;
}

/**
 * Deletes up to `limit` of a saga's commands published before `before` (epoch ms); returns how
 * many. An unpublished row (`published_at` NULL) never matches. Uses `prosa_outbox_pending`.
 */
export function createPublishedPruner(
  db: SqliteDatabase,
): (saga: string, before: number, limit: number) => number {
  const prune = db.prepare(
    'DELETE FROM prosa_outbox WHERE rowid IN (SELECT rowid FROM prosa_outbox WHERE saga = ? AND published_at IS NOT NULL AND published_at < ? LIMIT ?)',
  );
  return (saga, before, limit) => prune.run(saga, before, limit).changes;
}
