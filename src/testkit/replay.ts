/**
 * Replays messages through the real projection engine over an in-memory stream, under a delivery
 * plan: batch boundaries, redeliveries of what came before, crashes (before or after a commit)
 * and passivation pressure. Committed state lives in one SQLite database across crashes, exactly as
 * a restarted worker finds it; everything in memory is lost at a crash.
 */
import type { ProjectionDefinition, ProsaEvent, RawEvent } from '../projection.js';
import { createProjectionEngine, type ProjectionEngine } from '../projectionEngine.js';
import { openDatabase, type SqliteDatabase } from '../sqliteStore.js';

/** One delivery step of the in-memory stream. */
export type DeliveryStep =
  /** Deliver the next `size` messages from the consumer's position as one batch (commit, ack). */
  | { kind: 'batch'; size: number; redeliver?: number }
  /** The worker dies before committing the next `size` messages: they come again after restart. */
  | { kind: 'crash-before-commit'; size: number }
  /** The worker commits the next `size` messages, then dies before acking: they come again. */
  | { kind: 'crash-after-commit'; size: number }
  /** Every live actor is passivated (they come back from snapshots). */
  | { kind: 'passivate' };

export interface DeliveryPlan {
  steps: readonly DeliveryStep[];
  /** Live actor cap during the run. @default 10_000 */
  maxActors?: number;
}

export interface ReplayResult {
  db: SqliteDatabase;
  /** The engine's final checkpoint. */
  checkpoint: number;
  /** Dead letters as recorded in SQLite (seq and reason). */
  deadLetters: { seq: number; reason: string }[];
  /** How many engines ran (1 + crashes). */
  restarts: number;
}

/**
 * Runs `messages` (in stream order, seq ascending) through the engine following `plan`; after the
 * plan's steps, the rest is delivered in batches of the last size, until everything is applied.
 */
export function replay<E extends ProsaEvent, K extends string>(
  definition: ProjectionDefinition<E, K>,
  messages: readonly RawEvent[],
  plan: DeliveryPlan,
  db: SqliteDatabase = openDatabase(':memory:'),
): ReplayResult {
  const options = { maxActors: plan.maxActors ?? 10_000 };
  let engine: ProjectionEngine = createProjectionEngine(definition, db, options);
  let restarts = 0;
  // The consumer's position: index of the next message it delivers (redelivery after a crash
  // restarts it from the committed checkpoint, as the worker recreates its durable).
  const fromCheckpoint = () => {
    const at = messages.findIndex((m) => m.seq > engine.checkpoint);
    return at === -1 ? messages.length : at;
  };
  let cursor = fromCheckpoint();
  const restart = () => {
    engine.close();
    engine = createProjectionEngine(definition, db, options);
    restarts++;
    cursor = fromCheckpoint();
  };
  const take = (size: number, redeliver = 0) => {
    const start = Math.max(0, cursor - redeliver);
    const batch = messages.slice(start, cursor + Math.max(1, size));
    cursor = Math.min(messages.length, cursor + Math.max(1, size));
    return batch;
  };

  let lastSize = 1;
  for (const step of plan.steps) {
    if (cursor >= messages.length && step.kind !== 'passivate') break;
    switch (step.kind) {
      case 'batch':
        engine.applyBatch(take(step.size, step.redeliver));
        lastSize = step.size;
        break;
      case 'crash-before-commit':
        take(step.size);
        restart();
        break;
      case 'crash-after-commit':
        engine.applyBatch(take(step.size));
        restart();
        break;
      case 'passivate':
        engine.passivateAll();
        break;
    }
  }
  while (cursor < messages.length) engine.applyBatch(take(lastSize));
  const deadLetters = db
    .prepare('SELECT stream_seq AS seq, reason FROM prosa_dead_letters WHERE worker = ? ORDER BY stream_seq')
    .all(definition.name) as { seq: number; reason: string }[];
  const checkpoint = engine.checkpoint;
  engine.close();
  return { db, checkpoint, deadLetters, restarts };
}

/** A single clean pass: every message once, in one batch per `batchSize`. */
export function cleanReplay<E extends ProsaEvent, K extends string>(
  definition: ProjectionDefinition<E, K>,
  messages: readonly RawEvent[],
  batchSize = 1_000,
): ReplayResult {
  return replay(definition, messages, { steps: [{ kind: 'batch', size: batchSize }] });
}
