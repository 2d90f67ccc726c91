/**
 * The saga command outbox (`prosa_outbox`): commands are written in the batch transaction and
 * published after it, each under its own id, then marked published.
 */
import type { SqliteDatabase } from './sqlite.js';

export const OUTBOX_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS prosa_outbox (
     command_id TEXT PRIMARY KEY,
     saga TEXT NOT NULL,
     instance TEXT NOT NULL,
     subject TEXT NOT NULL,
     body TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     published_at INTEGER
   )`,
  `CREATE INDEX IF NOT EXISTS prosa_outbox_pending ON prosa_outbox (saga, published_at, created_at)`,
];

/** A command waiting to be published: `body` is the command as JSON. */
export interface OutboxCommand {
  commandId: string;
  subject: string;
  body: string;
}

/** Adds a command (once per id) in the caller's transaction; `at`: epoch ms. Prepared once. */
export function createOutboxWriter(
  db: SqliteDatabase,
): (commandId: string, saga: string, instance: string, subject: string, body: string, at: number) => void {
  const insert = db.prepare(
    'INSERT OR IGNORE INTO prosa_outbox (command_id, saga, instance, subject, body, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  return (commandId, saga, instance, subject, body, at) => {
    insert.run(commandId, saga, instance, subject, body, at);
  };
}

export interface OutboxReader {
  /** The oldest unpublished commands of a saga, in the order they were written. @default limit 500 */
  pending(saga: string, limit?: number): OutboxCommand[];
  /** Marks commands published (`at`: epoch ms), in one transaction. */
  markPublished(commands: readonly OutboxCommand[], at: number): void;
}

/** What the dispatcher (and the test kit, standing in for it) reads and marks; prepared once. */
export function createOutboxReader(db: SqliteDatabase): OutboxReader {
  const pending = db.prepare(
    'SELECT command_id AS commandId, subject, body FROM prosa_outbox WHERE saga = ? AND published_at IS NULL ORDER BY created_at, rowid LIMIT ?',
  );
  const markOne = db.prepare('UPDATE prosa_outbox SET published_at = ? WHERE command_id = ?');
  const markAll = db.transaction((commands: readonly OutboxCommand[], at: number) => {
    for (const c of commands) markOne.run(at, c.commandId);
  });
  return {
    pending: (saga, limit = 500) => pending.all(saga, limit) as OutboxCommand[],
    markPublished: (commands, at) => markAll(commands, at),
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
