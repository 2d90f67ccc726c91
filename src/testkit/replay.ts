/**
 * Replays messages through the real projection engine over an in-memory stream, under a delivery
 * plan: batch boundaries, redeliveries of what came before, crashes (before or after a commit)
 * and passivation pressure. Committed state lives in one SQLite database across crashes, exactly as
 * a restarted worker finds it; everything in memory is lost at a crash.
 */

import {
  abortCheckpointWritesWhen,
  createProjectionEngine,
  createRetriedCheck,
  defaults,
  listDeadLetterReasons,
  listWaitingSeqs,
  openDatabase,
  type ProjectionDefinition,
  type ProjectionEngine,
  type ProsaEvent,
  type RawEvent,
  retryRecorder,
  type SqliteDatabase,
  systemClock,
} from '../internal.js';

const CRASH = 'prosa replay: simulated crash before the commit';

/** Databases whose next commit must fail. */
const crashing = new Set<SqliteDatabase>();
const withCrashTrigger = new WeakSet<SqliteDatabase>();

/**
 * A temporary trigger that aborts the checkpoint write while the database is in `crashing`. It is
 * made once per connection, before the engine prepares its statements (DDL would make them be
 * prepared again), and costs one function call per commit otherwise.
 */
function installCrashTrigger(db: SqliteDatabase): void {
  if (withCrashTrigger.has(db)) return;
  abortCheckpointWritesWhen(db, () => crashing.has(db), CRASH);
  withCrashTrigger.add(db);
}

const tracesOfErrors = new WeakMap<object, ReplayTraceEntry[]>();

/** The steps a replay had taken when it threw `error` (the last one is the step that threw). */
export function replayTraceOf(error: unknown): ReplayTraceEntry[] | undefined {
  return typeof error === 'object' && error !== null ? tracesOfErrors.get(error) : undefined;
}

/** One delivery step of the in-memory stream. */
export type DeliveryStep =
  /** Deliver the next `size` messages from the consumer's position as one batch (commit, ack). */
  | { kind: 'batch'; size: number; redeliver?: number }
  /**
   * The worker applies the next `size` messages to its actors, then dies before the commit: nothing
   * of them reaches SQLite, and they come again after the restart.
   */
  | { kind: 'crash-before-commit'; size: number }
  /**
   * The worker commits the next `size` messages, then dies before acking: they come again to the
   * restarted worker, which must skip them (they are at or below its checkpoint).
   */
  | { kind: 'crash-after-commit'; size: number }
  /** Every live actor is passivated (they come back from snapshots). */
  | { kind: 'passivate' };

export interface DeliveryPlan {
  steps: readonly DeliveryStep[];
  /** Batch size for what the steps leave over. @default the last `batch` step's size, else 1 */
  restBatchSize?: number;
  /** Live actor cap during the run. @default 10_000 */
  maxActors?: number;
}

/** What one step of a replay did, for reports written for a person. */
export interface ReplayTraceEntry {
  /** The plan's step, or `rest` for a batch that delivers what the plan's steps left over. */
  step: DeliveryStep | { kind: 'rest'; size: number };
  /** Stream sequences delivered by the step, in order (redelivered ones included). */
  delivered: number[];
  /** How many of `delivered` had been delivered before. */
  redelivered: number;
  /** The checkpoint after the step; after a crash, the committed one the new worker starts from. */
  checkpoint: number;
}

export interface ReplayResult {
  db: SqliteDatabase;
  /** The engine's final checkpoint. */
  checkpoint: number;
  /** Dead letters as recorded in SQLite (seq and reason). */
  deadLetters: { seq: number; reason: string }[];
  /** Events that wait behind a dead letter of one of their entities, as recorded in SQLite. */
  waiting: number[];
  /** How many times the worker restarted (crashes). */
  restarts: number;
  /** Each effective step in order; steps past the end of the stream (but passivations) are left out. */
  trace: ReplayTraceEntry[];
}

/**
 * Runs `messages` (in stream order, seq ascending) through the engine following `plan`; after the
 * plan's steps, the rest is delivered in batches of `plan.restBatchSize`, until everything is applied.
 */
export function replay<E extends ProsaEvent, K extends string>(
  definition: ProjectionDefinition<E, K>,
  messages: readonly RawEvent[],
  plan: DeliveryPlan,
  db: SqliteDatabase = openDatabase(':memory:'),
): ReplayResult {
  const options = { maxActors: plan.maxActors ?? defaults.worker.maxActors };
  installCrashTrigger(db);
  let engine: ProjectionEngine = createProjectionEngine(definition, db, options);
  let restarts = 0;
  // The consumer's position: index of the next message it delivers (redelivery after a crash
  // restarts it from the committed checkpoint, as the worker recreates its durable).
  const fromCheckpoint = () => {
    const at = messages.findIndex((m) => m.seq > engine.checkpoint);
    return at === -1 ? messages.length : at;
  };
  let cursor = fromCheckpoint();
  /** Index past the furthest message ever delivered, to tell redeliveries apart. */
  let deliveredTo = 0;
  const restart = () => {
    engine.close();
    engine = createProjectionEngine(definition, db, options);
    restarts++;
    cursor = fromCheckpoint();
  };
  /**
   * Runs a batch through the engine with its commit made to fail (the crash trigger aborts the
   * checkpoint write, the transaction's last statement): the actors saw every message, SQLite keeps
   * nothing, exactly as when the process dies between the two.
   */
  const applyThenDie = (batch: readonly RawEvent[]) => {
    crashing.add(db);
    try {
      engine.applyBatch(batch);
    } catch (e) {
      if (!(e instanceof Error && e.message.includes(CRASH))) throw e;
    } finally {
      crashing.delete(db);
    }
  };
  const trace: ReplayTraceEntry[] = [];
  const take = (step: ReplayTraceEntry['step'], size: number, redeliver = 0) => {
    const start = Math.max(0, cursor - redeliver);
    const end = Math.min(messages.length, cursor + Math.max(1, size));
    const batch = messages.slice(start, end);
    const entry: ReplayTraceEntry = {
      step,
      delivered: batch.map((m) => m.seq),
      redelivered: Math.max(0, Math.min(end, deliveredTo) - start),
      checkpoint: engine.checkpoint,
    };
    trace.push(entry);
    deliveredTo = Math.max(deliveredTo, end);
    cursor = end;
    return { batch, entry, start };
  };

  try {
    let lastSize = plan.restBatchSize;
    for (const step of plan.steps) {
      if (cursor >= messages.length && step.kind !== 'passivate') break;
      switch (step.kind) {
        case 'batch': {
          const { batch, entry } = take(step, step.size, step.redeliver);
          engine.applyBatch(batch);
          entry.checkpoint = engine.checkpoint;
          if (plan.restBatchSize === undefined) lastSize = step.size;
          break;
        }
        case 'crash-before-commit': {
          const { batch, entry } = take(step, step.size);
          applyThenDie(batch);
          restart();
          entry.checkpoint = engine.checkpoint;
          break;
        }
        case 'crash-after-commit': {
          const { batch, entry, start } = take(step, step.size);
          engine.applyBatch(batch);
          restart();
          // Never acked: the server delivers them again, and the new worker must skip them.
          cursor = Math.min(cursor, start);
          entry.checkpoint = engine.checkpoint;
          break;
        }
        case 'passivate':
          engine.passivateAll();
          trace.push({ step, delivered: [], redelivered: 0, checkpoint: engine.checkpoint });
          break;
      }
    }
    const restSize = Math.max(1, lastSize ?? 1);
    while (cursor < messages.length) {
      const { batch, entry } = take({ kind: 'rest', size: restSize }, restSize);
      engine.applyBatch(batch);
      entry.checkpoint = engine.checkpoint;
    }
  } catch (error) {
    if (typeof error === 'object' && error !== null) tracesOfErrors.set(error, trace);
    engine.close();
    throw error;
  }
  const deadLetters = listDeadLetterReasons(db, definition.name);
  const waiting = listWaitingSeqs(db, definition.name);
  const checkpoint = engine.checkpoint;
  engine.close();
  return { db, checkpoint, deadLetters, waiting, restarts, trace };
}

/** A single clean pass: every message once, in one batch per `batchSize` (default: one batch). */
export function cleanReplay<E extends ProsaEvent, K extends string>(
  definition: ProjectionDefinition<E, K>,
  messages: readonly RawEvent[],
  batchSize = Math.max(1, messages.length),
  db?: SqliteDatabase,
): ReplayResult {
  return replay(definition, messages, { steps: [{ kind: 'batch', size: batchSize }] }, db);
}

/** What {@link retryDeadLetters} did. */
export interface RetryAllResult {
  /** Dead letters fed again, in stream order. */
  retried: number[];
  /** How many times a retry's commit failed and a new engine took over. */
  restarts: number;
}

/**
 * After a fix: feeds every unresolved dead letter of `db` again, in stream order, with `definition`
 * (the fixed code), as `prosa dlq retry --all` does; each applied one releases the events that
 * waited behind it. With `crashAt`, the commits of those retries (by index) fail as if the process
 * died in them, and a new engine on the same file retries the letter.
 */
export function retryDeadLetters<E extends ProsaEvent, K extends string>(
  definition: ProjectionDefinition<E, K>,
  db: SqliteDatabase,
  messages: readonly RawEvent[],
  options: { crashAt?: ReadonlySet<number> } = {},
): RetryAllResult {
  installCrashTrigger(db);
  const settled = createRetriedCheck(db);
  const record = retryRecorder(db, definition.name, definition.source.stream, systemClock);
  const bySeq = new Map(messages.map((m) => [m.seq, m]));
  const retried: number[] = [];
  let restarts = 0;
  let engine = createProjectionEngine(definition, db);
  try {
    let index = 0;
    for (const { seq } of listDeadLetterReasons(db, definition.name)) {
      const msg = bySeq.get(seq);
      if (!msg || settled(definition.name, seq)) continue;
      if (options.crashAt?.has(index++)) {
        crashing.add(db);
        try {
          engine.applyOutOfOrder([msg], record);
        } catch (e) {
          if (!(e instanceof Error && e.message.includes(CRASH))) throw e;
        } finally {
          crashing.delete(db);
        }
        engine.close();
        engine = createProjectionEngine(definition, db);
        restarts++;
      }
      engine.applyOutOfOrder([msg], record);
      retried.push(seq);
    }
  } finally {
    engine.close();
  }
  return { retried, restarts };
}
