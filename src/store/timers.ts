/**
 * Saga timers (`prosa_timers`): XState does not persist delayed events, so a timeout is a row with
 * its due time, pending until it fires or is cancelled.
 */
import type { SqliteDatabase } from './sqlite.js';

export const TIMERS_SCHEMA: readonly string[] = [
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
  // Fired and cancelled timers by age, for pruning; pending ones (ended_at NULL) are not in it.
  `CREATE INDEX IF NOT EXISTS prosa_timers_ended ON prosa_timers (saga, ended_at) WHERE ended_at IS NOT NULL`,
];

const CANCEL_BY_NAME =
  "UPDATE prosa_timers SET status = 'cancelled', ended_at = ? WHERE saga = ? AND instance = ? AND name = ? AND status = 'pending'";
const NEXT_DUE = "SELECT min(due_at) FROM prosa_timers WHERE saga = ? AND status = 'pending'";

/** A pending timer as its instance sees it: `state` is the state (JSON) that set it. */
export interface InstanceTimer {
  name: string;
  timerId: string;
  state: string;
}

export interface DueTimer {
  timerId: string;
  instance: string;
  name: string;
  correlationId: string;
}

export interface NewTimer {
  timerId: string;
  instance: string;
  name: string;
  /** Epoch ms. */
  dueAt: number;
  state: string;
  correlationId: string;
}

export interface TimerStore {
  pendingOf(saga: string, instance: string): InstanceTimer[];
  /** Adds a pending timer (once per id); `at`: epoch ms. */
  start(saga: string, timer: NewTimer, at: number): void;
  /**
   * Cancels the instance's pending timer of that name, if any, unless it is `keep` (the same timer
   * started again, by an event replayed after a saga reset: it stays pending, once).
   */
  cancelByName(saga: string, instance: string, name: string, at: number, keep?: string): void;
  /** Ends a pending timer: fired or cancelled. */
  end(timerId: string, status: 'fired' | 'cancelled', at: number): void;
  /** The timers due at `now`, in due order (a bounded page). */
  due(saga: string, now: number): DueTimer[];
  /** Epoch ms of the next pending timer. */
  nextDue(saga: string): number | undefined;
  /** Pending timers in due order, read as they are asked for (break out of the loop to stop reading). */
  pendingByDue(saga: string): IterableIterator<DueTimer & { dueAt: number }>;
}

/** Statements prepared once, for the saga engine's batch transaction. */
export function createTimerStore(db: SqliteDatabase): TimerStore {
  const pendingOf = db.prepare(
    "SELECT name, timer_id AS timerId, state FROM prosa_timers WHERE saga = ? AND instance = ? AND status = 'pending'",
  );
  const start = db.prepare(
    "INSERT OR IGNORE INTO prosa_timers (timer_id, saga, instance, name, due_at, state, correlation_id, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
  );
  const cancelOthersByName = db.prepare(`${CANCEL_BY_NAME} AND timer_id <> ?`);
  const end = db.prepare(
    "UPDATE prosa_timers SET status = ?, ended_at = ? WHERE timer_id = ? AND status = 'pending'",
  );
  const due = db.prepare(
    "SELECT timer_id AS timerId, instance, name, correlation_id AS correlationId FROM prosa_timers WHERE saga = ? AND status = 'pending' AND due_at <= ? ORDER BY due_at, timer_id LIMIT 500",
  );
  const nextDue = createNextTimeoutReader(db);
  const pendingByDue = db.prepare(
    "SELECT timer_id AS timerId, instance, name, correlation_id AS correlationId, due_at AS dueAt FROM prosa_timers WHERE saga = ? AND status = 'pending' ORDER BY due_at, timer_id",
  );
  return {
    pendingByDue: (saga) => pendingByDue.iterate(saga) as IterableIterator<DueTimer & { dueAt: number }>,
    pendingOf: (saga, instance) => pendingOf.all(saga, instance) as InstanceTimer[],
    start: (saga, t, at) => {
      start.run(t.timerId, saga, t.instance, t.name, t.dueAt, t.state, t.correlationId, at);
    },
    cancelByName: (saga, instance, name, at, keep = '') => {
      cancelOthersByName.run(at, saga, instance, name, keep);
    },
    end: (timerId, status, at) => {
      end.run(status, at, timerId);
    },
    due: (saga, now) => due.all(saga, now) as DueTimer[],
    nextDue,
  };
}

/** Epoch ms of a saga's next pending timer; prepared once. */
export function createNextTimeoutReader(db: SqliteDatabase): (saga: string) => number | undefined {
  const next = db.prepare(NEXT_DUE).pluck();
  return (saga) => (next.get(saga) as number | null) ?? undefined;
}

/**
 * Deletes up to `limit` of a saga's timers that fired or were cancelled before `before` (epoch ms);
 * returns how many. A pending timer never matches. Uses `prosa_timers_ended`.
 */
export function createEndedTimerPruner(
  db: SqliteDatabase,
): (saga: string, before: number, limit: number) => number {
  const prune = db.prepare(
    "DELETE FROM prosa_timers WHERE rowid IN (SELECT rowid FROM prosa_timers WHERE saga = ? AND ended_at IS NOT NULL AND ended_at < ? AND status <> 'pending' LIMIT ?)",
  );
  return (saga, before, limit) => prune.run(saga, before, limit).changes;
}

/** Cancels an instance's pending timer by name (an operator's cancel). Returns whether there was one. */
export function cancelTimer(
  db: SqliteDatabase,
  saga: string,
  instance: string,
  name: string,
  at: number,
): boolean {
  return db.prepare(CANCEL_BY_NAME).run(at, saga, instance, name).changes > 0;
}

/** A saga's pending timers, in due order. */
export function listPendingTimers(
  db: SqliteDatabase,
  saga: string,
): { instance: string; name: string; dueAt: number; timerId: string }[] {
  return db
    .prepare(
      "SELECT instance, name, due_at AS dueAt, timer_id AS timerId FROM prosa_timers WHERE saga = ? AND status = 'pending' ORDER BY due_at",
    )
    .all(saga) as { instance: string; name: string; dueAt: number; timerId: string }[];
}

/** An instance's pending timers by name, with their due times (epoch ms); prepared once. */
export function createInstanceTimerReader(
  db: SqliteDatabase,
): (saga: string, instance: string) => { name: string; dueAt: number }[] {
  const pending = db.prepare(
    "SELECT name, due_at AS dueAt FROM prosa_timers WHERE saga = ? AND instance = ? AND status = 'pending' ORDER BY name",
  );
  return (saga, instance) => pending.all(saga, instance) as { name: string; dueAt: number }[];
}

/** Every timer of a saga, fired, cancelled or pending: its status by id. */
export function timerStatuses(db: SqliteDatabase, saga: string): Map<string, string> {
  const rows = db.prepare('SELECT timer_id AS id, status FROM prosa_timers WHERE saga = ?').all(saga) as {
    id: string;
    status: string;
  }[];
  return new Map(rows.map((t) => [t.id, t.status]));
}
