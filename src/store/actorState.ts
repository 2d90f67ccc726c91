/** The snapshots of a projection's key actors (`prosa_actor_snapshots`), one per (worker, kind, key). */
import type { SqliteDatabase } from './sqlite.js';

export const ACTOR_STATE_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS prosa_actor_snapshots (
     worker TEXT NOT NULL,
     kind TEXT NOT NULL,
     key TEXT NOT NULL,
     snapshot TEXT NOT NULL,
     PRIMARY KEY (worker, kind, key)
   ) WITHOUT ROWID`,
];

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
