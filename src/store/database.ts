/**
 * The SQLite file that holds read models, actor snapshots, saga state and every worker's position.
 * WAL and synchronous=NORMAL are set explicitly (DESIGN 2): a commit is durable against a process
 * crash, and readers never block the writer. Bookkeeping tables are `prosa_*`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ProsaError } from '../errors.js';

export type SqliteDatabase = Database.Database;

export interface OpenDatabaseOptions {
  /** How long a writer waits for a lock before SQLITE_BUSY. @default 5_000 */
  busyTimeoutMs?: number;
  readonly?: boolean;
}

const BOOKKEEPING = [
  `CREATE TABLE IF NOT EXISTS prosa_checkpoints (
     worker TEXT PRIMARY KEY,
     seq INTEGER NOT NULL,
     version INTEGER NOT NULL DEFAULT 1,
     updated_at TEXT NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS prosa_actor_snapshots (
     worker TEXT NOT NULL,
     kind TEXT NOT NULL,
     key TEXT NOT NULL,
     snapshot TEXT NOT NULL,
     PRIMARY KEY (worker, kind, key)
   ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS prosa_migrations (
     worker TEXT NOT NULL,
     idx INTEGER NOT NULL,
     applied_at TEXT NOT NULL,
     PRIMARY KEY (worker, idx)
   )`,
  // Dead letters are written in the batch transaction and published after it (an outbox), so each
  // bad message reaches the DLQ stream once, across crashes.
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
  `CREATE TABLE IF NOT EXISTS prosa_gaps (
     worker TEXT NOT NULL,
     from_seq INTEGER NOT NULL,
     to_seq INTEGER NOT NULL,
     detected_at TEXT NOT NULL,
     PRIMARY KEY (worker, from_seq)
   )`,
  // A worker paused by an operator (no pid) or by a rebuild (its pid: stale when that process died).
  `CREATE TABLE IF NOT EXISTS prosa_pauses (
     worker TEXT PRIMARY KEY,
     reason TEXT NOT NULL,
     by_pid INTEGER,
     paused_at TEXT NOT NULL
   )`,
  // Messages an operator told a worker to skip (`prosa skip`); they are dead-lettered with this reason.
  `CREATE TABLE IF NOT EXISTS prosa_skips (
     worker TEXT NOT NULL,
     seq INTEGER NOT NULL,
     reason TEXT NOT NULL,
     PRIMARY KEY (worker, seq)
   )`,
  // A rebuild under way: one per projection; a row whose process died is taken over (resumed).
  `CREATE TABLE IF NOT EXISTS prosa_rebuilds (
     worker TEXT PRIMARY KEY,
     pid INTEGER NOT NULL,
     shadow_path TEXT NOT NULL,
     reason TEXT NOT NULL,
     started_at TEXT NOT NULL
   )`,
  // What a running worker last said about itself, for `prosa status` from another terminal.
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

/** Opens (creating if needed) the database with prosa's pragmas and bookkeeping tables. */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): SqliteDatabase {
  let db: SqliteDatabase;
  try {
    if (path !== ':memory:' && !options.readonly) mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, {
      readonly: options.readonly ?? false,
      fileMustExist: options.readonly ?? false,
    });
  } catch (cause) {
    throw new ProsaError(
      'PROSA_SQLITE',
      `cannot open SQLite database ${path}: ${(cause as Error).message}; check that the directory exists and is writable, or set PROSA_DB`,
      { cause },
    );
  }
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5_000}`);
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = OFF');
    for (const sql of BOOKKEEPING) db.exec(sql);
    for (const sql of SAGA_TABLES) db.exec(sql);
  }
  return db;
}

/** Runs a worker's migrations that have not run yet, in order, each once, in one transaction. */
export function migrate(db: SqliteDatabase, worker: string, migrations: readonly string[]): number {
  const applied = new Set(
    (db.prepare('SELECT idx FROM prosa_migrations WHERE worker = ?').all(worker) as { idx: number }[]).map(
      (r) => r.idx,
    ),
  );
  const record = db.prepare('INSERT INTO prosa_migrations (worker, idx, applied_at) VALUES (?, ?, ?)');
  let ran = 0;
  db.transaction(() => {
    migrations.forEach((sql, idx) => {
      if (applied.has(idx)) return;
      try {
        db.exec(sql);
      } catch (cause) {
        throw new ProsaError(
          'PROSA_SQLITE',
          `${worker}: migration ${idx} failed: ${(cause as Error).message}`,
          { cause },
        );
      }
      record.run(worker, idx, new Date().toISOString());
      ran++;
    });
  })();
  return ran;
}

export function readCheckpoint(
  db: SqliteDatabase,
  worker: string,
): { seq: number; version: number } | undefined {
  return db.prepare('SELECT seq, version FROM prosa_checkpoints WHERE worker = ?').get(worker) as
    | { seq: number; version: number }
    | undefined;
}

/** A column value as better-sqlite3 binds it: objects and arrays as JSON text, booleans as 0/1. */
export function toSqlValue(v: unknown): string | number | bigint | Buffer | Uint8Array | null {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'bigint':
      return v;
    case 'boolean':
      return v ? 1 : 0;
    case 'undefined':
      return null;
    case 'object':
      if (v === null) return null;
      if (v instanceof Uint8Array) return v;
      return JSON.stringify(v);
    default:
      return String(v);
  }
}

/** The column names of a table, in order. */
export function tableColumns(db: SqliteDatabase, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${quoteIdent(table)})`).all() as { name: string }[]).map(
    (c) => c.name,
  );
}

export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Saga bookkeeping: instances, finished records, timers and the command outbox. */
export const SAGA_TABLES = [
  `CREATE TABLE IF NOT EXISTS prosa_saga_instances (
     saga TEXT NOT NULL,
     instance TEXT NOT NULL,
     snapshot TEXT NOT NULL,
     state TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (saga, instance)
   ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS prosa_saga_finished (
     saga TEXT NOT NULL,
     instance TEXT NOT NULL,
     finished_at INTEGER NOT NULL,
     state TEXT NOT NULL,
     cause TEXT NOT NULL,
     PRIMARY KEY (saga, instance, cause)
   )`,
  `CREATE TABLE IF NOT EXISTS prosa_timers (
     timer_id TEXT PRIMARY KEY,
     saga TEXT NOT NULL,
     instance TEXT NOT NULL,
     name TEXT NOT NULL,
     due_at INTEGER NOT NULL,
     state TEXT NOT NULL,
     correlation_id TEXT NOT NULL,
     status TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     ended_at INTEGER
   )`,
  `CREATE INDEX IF NOT EXISTS prosa_timers_due ON prosa_timers (saga, status, due_at)`,
  `CREATE INDEX IF NOT EXISTS prosa_timers_instance ON prosa_timers (saga, instance, status)`,
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
