/**
 * Saga instances (`prosa_saga_instances`: the live ones' snapshots and states) and the record of
 * finished ones (`prosa_saga_finished`, kept for a retention period).
 */
import { moveToRowidTable, type SqliteDatabase } from './sqlite.js';

export const SAGA_INSTANCES_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS prosa_saga_instances (
     saga TEXT NOT NULL,
     instance TEXT NOT NULL,
     snapshot TEXT NOT NULL,
     state TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (saga, instance)
   )`,
  `CREATE TABLE IF NOT EXISTS prosa_saga_finished (
     saga TEXT NOT NULL,
     instance TEXT NOT NULL,
     finished_at INTEGER NOT NULL,
     state TEXT NOT NULL,
     cause TEXT NOT NULL,
     PRIMARY KEY (saga, instance, cause)
   )`,
  `CREATE INDEX IF NOT EXISTS prosa_saga_finished_at ON prosa_saga_finished (saga, finished_at)`,
];

/**
 * A database an older prosa created keeps its snapshots in a WITHOUT ROWID table, where a snapshot of
 * a few KB took three times its size: moved once, at open.
 */
export function upgradeSagaInstances(db: SqliteDatabase): void {
  moveToRowidTable(db, 'prosa_saga_instances', SAGA_INSTANCES_SCHEMA[0] as string);
}

const COUNT = 'SELECT count(*) FROM prosa_saga_instances WHERE saga = ?';

export interface SagaInstanceStore {
  /** The serialized snapshot of a live instance. */
  load(saga: string, instance: string): string | undefined;
  /** `state`: the machine's state value as JSON; `at`: RFC 3339. */
  save(saga: string, instance: string, snapshot: string, state: string, at: string): void;
  remove(saga: string, instance: string): void;
  /** Records that an instance finished (`at`: epoch ms), once per cause. */
  finish(saga: string, instance: string, at: number, state: string, cause: string): void;
  /** How many instances are live. */
  count(saga: string): number;
}

/** Statements prepared once, for the saga engine's batch transaction. */
export function createSagaInstanceStore(db: SqliteDatabase): SagaInstanceStore {
  const load = db
    .prepare('SELECT snapshot FROM prosa_saga_instances WHERE saga = ? AND instance = ?')
    .pluck();
  const save = db.prepare(
    'INSERT INTO prosa_saga_instances (saga, instance, snapshot, state, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (saga, instance) DO UPDATE SET snapshot = excluded.snapshot, state = excluded.state, updated_at = excluded.updated_at',
  );
  const remove = db.prepare('DELETE FROM prosa_saga_instances WHERE saga = ? AND instance = ?');
  const finish = db.prepare(
    'INSERT OR IGNORE INTO prosa_saga_finished (saga, instance, finished_at, state, cause) VALUES (?, ?, ?, ?, ?)',
  );
  const count = db.prepare(COUNT).pluck();
  return {
    load: (saga, instance) => load.get(saga, instance) as string | undefined,
    save: (saga, instance, snapshot, state, at) => {
      save.run(saga, instance, snapshot, state, at);
    },
    remove: (saga, instance) => {
      remove.run(saga, instance);
    },
    finish: (saga, instance, at, state, cause) => {
      finish.run(saga, instance, at, state, cause);
    },
    count: (saga) => count.get(saga) as number,
  };
}

/**
 * Deletes up to `limit` of a saga's finished records older than `before` (epoch ms); returns how
 * many. Uses `prosa_saga_finished_at`.
 */
export function createFinishedPruner(
  db: SqliteDatabase,
): (saga: string, before: number, limit: number) => number {
  const prune = db.prepare(
    'DELETE FROM prosa_saga_finished WHERE rowid IN (SELECT rowid FROM prosa_saga_finished WHERE saga = ? AND finished_at < ? LIMIT ?)',
  );
  return (saga, before, limit) => prune.run(saga, before, limit).changes;
}

/** How many instances of a saga are live; prepared once. */
export function createInstanceCounter(db: SqliteDatabase): (saga: string) => number {
  const count = db.prepare(COUNT).pluck();
  return (saga) => count.get(saga) as number;
}

/** A saga's live instances by id, with their states (JSON) and when they last changed (RFC 3339). */
export function listSagaInstances(
  db: SqliteDatabase,
  saga: string,
): { instance: string; state: string; updatedAt: string }[] {
  return db
    .prepare(
      'SELECT instance, state, updated_at AS updatedAt FROM prosa_saga_instances WHERE saga = ? ORDER BY instance',
    )
    .all(saga) as { instance: string; state: string; updatedAt: string }[];
}

/** What a test asks of a saga's instances; prepared once. */
export interface SagaInstanceView {
  /** The live instance's state (JSON), if it is live. */
  state(saga: string, instance: string): string | undefined;
  /** How many finished records there are, of one instance or (null) of any. */
  finishedCount(saga: string, instance: string | null): number;
}

export function createSagaInstanceView(db: SqliteDatabase): SagaInstanceView {
  const state = db.prepare('SELECT state FROM prosa_saga_instances WHERE saga = ? AND instance = ?').pluck();
  const finished = db
    .prepare('SELECT count(*) FROM prosa_saga_finished WHERE saga = ? AND (? IS NULL OR instance = ?)')
    .pluck();
  return {
    state: (saga, instance) => state.get(saga, instance) as string | undefined,
    finishedCount: (saga, instance) => finished.get(saga, instance, instance) as number,
  };
}
