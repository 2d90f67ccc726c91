/**
 * Paused workers (`prosa_pauses`): by an operator (no pid) or by a process such as a rebuild (its
 * pid: the pause lapses when that process dies).
 */
import type { SqliteDatabase } from './sqlite.js';

export const PAUSES_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS prosa_pauses (
     worker TEXT PRIMARY KEY,
     reason TEXT NOT NULL,
     by_pid INTEGER,
     paused_at TEXT NOT NULL
   )`,
];

export interface StoredPause {
  reason: string;
  byPid: number | null;
}

/** Pauses a worker, replacing an earlier pause (`at`: RFC 3339). */
export function recordPause(db: SqliteDatabase, worker: string, pause: StoredPause, at: string): void {
  db.prepare(
    'INSERT INTO prosa_pauses (worker, reason, by_pid, paused_at) VALUES (?, ?, ?, ?) ON CONFLICT (worker) DO UPDATE SET reason = excluded.reason, by_pid = excluded.by_pid, paused_at = excluded.paused_at',
  ).run(worker, pause.reason, pause.byPid, at);
}

export function readPause(db: SqliteDatabase, worker: string): StoredPause | undefined {
  return db.prepare('SELECT reason, by_pid AS byPid FROM prosa_pauses WHERE worker = ?').get(worker) as
    | StoredPause
    | undefined;
}

export function clearPause(db: SqliteDatabase, worker: string): void {
  db.prepare('DELETE FROM prosa_pauses WHERE worker = ?').run(worker);
}
