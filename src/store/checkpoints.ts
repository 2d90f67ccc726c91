/**
 * Each worker's position (`prosa_checkpoints`): the last stream sequence it applied, and the
 * projection version that applied it (a version change means a rebuild).
 */
import type { SqliteDatabase } from './sqlite.js';

export const CHECKPOINTS_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS prosa_checkpoints (
     worker TEXT PRIMARY KEY,
     seq INTEGER NOT NULL,
     version INTEGER NOT NULL DEFAULT 1,
     updated_at TEXT NOT NULL
   )`,
];

export interface StoredCheckpoint {
  seq: number;
  version: number;
}

const WRITE =
  'INSERT INTO prosa_checkpoints (worker, seq, version, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (worker) DO UPDATE SET seq = excluded.seq, version = excluded.version, updated_at = excluded.updated_at';
// A saga's checkpoint, or one an operator resets: the version stays what it was (1 for a new row).
const MOVE =
  'INSERT INTO prosa_checkpoints (worker, seq, version, updated_at) VALUES (?, ?, 1, ?) ON CONFLICT (worker) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at';

export function readCheckpoint(db: SqliteDatabase, worker: string): StoredCheckpoint | undefined {
  return db.prepare('SELECT seq, version FROM prosa_checkpoints WHERE worker = ?').get(worker) as
    | StoredCheckpoint
    | undefined;
}

/** Sets a worker's checkpoint and version (`at`: RFC 3339). */
export function writeCheckpoint(
  db: SqliteDatabase,
  worker: string,
  seq: number,
  version: number,
  at: string,
): void {
  db.prepare(WRITE).run(worker, seq, version, at);
}

/** Sets a worker's checkpoint, keeping its version. */
export function moveCheckpoint(db: SqliteDatabase, worker: string, seq: number, at: string): void {
  db.prepare(MOVE).run(worker, seq, at);
}

/** {@link writeCheckpoint} prepared once, for a projection engine's batch transaction. */
export function createCheckpointWriter(
  db: SqliteDatabase,
): (worker: string, seq: number, version: number, at: string) => void {
  const write = db.prepare(WRITE);
  return (worker, seq, version, at) => {
    write.run(worker, seq, version, at);
  };
}

/** {@link moveCheckpoint} prepared once, for a saga engine's batch transaction. */
export function createCheckpointMover(db: SqliteDatabase): (worker: string, seq: number, at: string) => void {
  const move = db.prepare(MOVE);
  return (worker, seq, at) => {
    move.run(worker, seq, at);
  };
}

/**
 * Makes every checkpoint write on this connection abort with `message` while `failing()` holds:
 * a crash before the commit, for the test kit. Install it before statements are prepared on `db`
 * (DDL makes them be prepared again); otherwise it costs one function call per commit.
 */
export function abortCheckpointWritesWhen(db: SqliteDatabase, failing: () => boolean, message: string): void {
  db.function('prosa_replay_crashing', { deterministic: false }, () => (failing() ? 1 : 0));
  const text = message.replaceAll("'", "''");
  for (const op of ['INSERT', 'UPDATE']) {
    db.exec(
      `CREATE TEMP TRIGGER IF NOT EXISTS prosa_replay_crash_${op.toLowerCase()} BEFORE ${op} ON main.prosa_checkpoints WHEN prosa_replay_crashing() BEGIN SELECT RAISE(ABORT, '${text}'); END`,
    );
  }
}
