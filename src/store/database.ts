/**
 * The SQLite file that holds read models, actor snapshots, saga state and every worker's position.
 * WAL and synchronous=NORMAL are set explicitly: a commit is durable against a process crash, and
 * readers never block the writer. Bookkeeping tables are `prosa_*`, each owned by one module here
 * that holds its schema and every query on it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ProsaError } from '../errors.js';
import { ACTOR_STATE_SCHEMA, upgradeActorSnapshots } from './actorState.js';
import { CHECKPOINTS_SCHEMA } from './checkpoints.js';
import { DEAD_LETTERS_SCHEMA } from './deadLetters.js';
import { GAPS_SCHEMA } from './gaps.js';
import { MIGRATIONS_SCHEMA } from './migrations.js';
import { OUTBOX_SCHEMA, upgradeOutbox } from './outbox.js';
import { PAUSES_SCHEMA } from './pauses.js';
import { REBUILDS_SCHEMA } from './rebuilds.js';
import { SAGA_INSTANCES_SCHEMA, upgradeSagaInstances } from './sagaInstances.js';
import { SKIPS_SCHEMA } from './skips.js';
import type { SqliteDatabase } from './sqlite.js';
import { TIMERS_SCHEMA } from './timers.js';
import { WAITING_SCHEMA } from './waiting.js';
import { WORKERS_SCHEMA } from './workers.js';

export type { SqliteDatabase } from './sqlite.js';

export interface OpenDatabaseOptions {
  /** How long a writer waits for a lock before SQLITE_BUSY. @default 5_000 */
  busyTimeoutMs?: number;
  readonly?: boolean;
}

/** Every store module's tables and indexes, created if missing at each open. */
const SCHEMA: readonly (readonly string[])[] = [
  CHECKPOINTS_SCHEMA,
  ACTOR_STATE_SCHEMA,
  MIGRATIONS_SCHEMA,
  DEAD_LETTERS_SCHEMA,
  GAPS_SCHEMA,
  PAUSES_SCHEMA,
  SKIPS_SCHEMA,
  REBUILDS_SCHEMA,
  WORKERS_SCHEMA,
  SAGA_INSTANCES_SCHEMA,
  TIMERS_SCHEMA,
  OUTBOX_SCHEMA,
  WAITING_SCHEMA,
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
    for (const statements of SCHEMA) for (const sql of statements) db.exec(sql);
    upgradeOutbox(db);
    upgradeSagaInstances(db);
    upgradeActorSnapshots(db);
  }
  return db;
}
