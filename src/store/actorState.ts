/**
 * The stored state of a projection's key actors: snapshots in `prosa_actor_snapshots`, one per
 * (worker, kind, key), and the `prosa_state` column an entity table gets when its row holds the
 * state (src/engine/entityState.ts).
 */
import { moveToRowidTable, quoteIdent, type SqliteDatabase } from './sqlite.js';

export const ACTOR_STATE_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS prosa_actor_snapshots (
     worker TEXT NOT NULL,
     kind TEXT NOT NULL,
     key TEXT NOT NULL,
     snapshot TEXT NOT NULL,
     PRIMARY KEY (worker, kind, key)
   )`,
];

/** As for saga instances (./sagaInstances.ts): a WITHOUT ROWID table of an older prosa is moved once. */
export function upgradeActorSnapshots(db: SqliteDatabase): void {
  moveToRowidTable(db, 'prosa_actor_snapshots', ACTOR_STATE_SCHEMA[0] as string);
}

export interface ActorStateStore {
  /** The serialized snapshot, if the actor was ever written. */
  load(worker: string, kind: string, key: string): string | undefined;
  save(worker: string, kind: string, key: string, snapshot: string): void;
}

/** Statements prepared once, for the engine's hot path. */
export function createActorStateStore(db: SqliteDatabase): ActorStateStore {
  const load = db
    .prepare('SELECT snapshot FROM prosa_actor_snapshots WHERE worker = ? AND kind = ? AND key = ?')
    .pluck();
  const save = db.prepare(
    'INSERT INTO prosa_actor_snapshots (worker, kind, key, snapshot) VALUES (?, ?, ?, ?) ON CONFLICT (worker, kind, key) DO UPDATE SET snapshot = excluded.snapshot',
  );
  return {
    load: (worker, kind, key) => load.get(worker, kind, key) as string | undefined,
    save: (worker, kind, key, snapshot) => {
      save.run(worker, kind, key, snapshot);
    },
  };
}

/** Replaces a worker's snapshots in the main schema with those of the attached schema `from`. */
export function copyActorSnapshots(db: SqliteDatabase, from: string, worker: string): void {
  db.prepare('DELETE FROM main.prosa_actor_snapshots WHERE worker = ?').run(worker);
  db.prepare(
    `INSERT INTO main.prosa_actor_snapshots SELECT * FROM ${from}.prosa_actor_snapshots WHERE worker = ?`,
  ).run(worker);
}

/** The column of an entity table that holds what its columns cannot say of the actor's state. */
export const STATE_COLUMN = 'prosa_state';

/** Adds `prosa_state` to an entity table (in `schema`) that lacks it. */
export function ensureStateColumn(db: SqliteDatabase, table: string, schema = 'main'): void {
  if (hasStateColumn(db, table, schema)) return;
  db.exec(`ALTER TABLE ${schema}.${quoteIdent(table)} ADD COLUMN ${STATE_COLUMN} TEXT`);
}

export function hasStateColumn(db: SqliteDatabase, table: string, schema = 'main'): boolean {
  const columns = db.prepare(`PRAGMA ${schema}.table_info(${quoteIdent(table)})`).all() as { name: string }[];
  return columns.some((c) => c.name === STATE_COLUMN);
}

export function countSnapshots(db: SqliteDatabase, worker: string): number {
  return db
    .prepare('SELECT count(*) FROM prosa_actor_snapshots WHERE worker = ?')
    .pluck()
    .get(worker) as number;
}

/** The kind and key of every snapshot a worker stored, read one at a time. */
export function snapshotKeys(db: SqliteDatabase, worker: string): Iterable<{ kind: string; key: string }> {
  return db
    .prepare('SELECT kind, key FROM prosa_actor_snapshots WHERE worker = ?')
    .iterate(worker) as Iterable<{
    kind: string;
    key: string;
  }>;
}
