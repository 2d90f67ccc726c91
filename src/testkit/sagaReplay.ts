/**
 * Replays messages through the real saga engine over an in-memory stream and an in-memory COMMANDS
 * stream that drops duplicate `Nats-Msg-Id`s (as JetStream does within its duplicate window), under
 * a delivery plan: batch boundaries, redeliveries, crashes before a commit, after a commit (before
 * the ack and the publish), after a publish (before marking it done), and passivation. The clock
 * moves only at `advances`, placed after given events, so a faulted run and a clean pass see the
 * same interleaving of events and due timers.
 */

import {
  createOutboxReader,
  createSagaEngine,
  defaults,
  openDatabase,
  type ProsaEvent,
  type RawEvent,
  type SagaDefinition,
  type SagaEngine,
  type SagaEngineOptions,
  type SqliteDatabase,
  timerStatuses,
} from '../internal.js';

export type SagaDeliveryStep =
  | { kind: 'batch'; size: number; redeliver?: number }
  | { kind: 'crash-before-commit'; size: number }
  | { kind: 'crash-after-commit'; size: number }
  /** The dispatcher publishes up to `count` outbox rows and marks them done. */
  | { kind: 'publish'; count: number }
  /** The dispatcher publishes up to `count` rows, then the worker dies before marking them done. */
  | { kind: 'crash-after-publish'; count: number }
  | { kind: 'passivate' };

export interface SagaReplayPlan {
  steps: readonly SagaDeliveryStep[];
  /** Live actor cap. @default 10_000 */
  maxActors?: number;
}

/** Clock moves: after the event with stream sequence `afterSeq` is committed, advance by `ms` and fire due timers. */
export interface ClockAdvance {
  afterSeq: number;
  ms: number;
}

export interface SagaReplayResult {
  db: SqliteDatabase;
  /** What the COMMANDS stream holds, by command id (duplicates dropped). */
  published: Map<string, string>;
  /** How many publishes the stream dropped as duplicates. */
  duplicatesDropped: number;
  /** Each timer's final status. */
  timers: Map<string, string>;
  checkpoint: number;
}

export function replaySaga<E extends ProsaEvent, T extends string, C extends string>(
  saga: SagaDefinition<E, T, C>,
  messages: readonly RawEvent[],
  advances: readonly ClockAdvance[],
  plan: SagaReplayPlan,
  options: { startAt?: number; timeouts?: Record<string, number> } = {},
): SagaReplayResult {
  const db = openDatabase(':memory:');
  let now = options.startAt ?? Date.UTC(2025, 0, 1);
  const engineOptions: SagaEngineOptions = {
    maxActors: plan.maxActors ?? defaults.worker.maxActors,
    clock: { now: () => now },
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
  };
  let engine: SagaEngine = createSagaEngine(saga, db, engineOptions);
  const published = new Map<string, string>();
  let duplicatesDropped = 0;
  // The dispatcher's own reads and marks, so a replay tests the queries `prosa run` uses.
  const outbox = createOutboxReader(db);
  const publish = (count: number, mark: boolean) => {
    const rows = outbox.pending(saga.name, count);
    for (const row of rows) {
      if (published.has(row.commandId)) duplicatesDropped++;
      else published.set(row.commandId, row.body);
    }
    if (mark) outbox.markPublished(rows, now);
  };

  const marks = [...advances].sort((a, b) => a.afterSeq - b.afterSeq);
  let nextMark = 0;
  /** Applies every clock move whose events are all committed. */
  const moveClock = () => {
    for (let m = marks[nextMark]; m && engine.checkpoint >= m.afterSeq; m = marks[++nextMark]) {
      now += m.ms;
      while (engine.fireDueTimers() > 0) {
        /* fire everything due */
      }
    }
  };
  const fromCheckpoint = () => {
    const at = messages.findIndex((m) => m.seq > engine.checkpoint);
    return at === -1 ? messages.length : at;
  };
  let cursor = fromCheckpoint();
  const restart = () => {
    engine.close();
    engine = createSagaEngine(saga, db, engineOptions);
    cursor = fromCheckpoint();
  };
  /** The next batch: never past the next clock move, so timers and events interleave as in a clean pass. */
  const take = (size: number, redeliver = 0) => {
    const limitSeq = marks[nextMark]?.afterSeq ?? Number.POSITIVE_INFINITY;
    let end = Math.min(messages.length, cursor + Math.max(1, size));
    while (end > cursor + 1 && (messages[end - 1]?.seq ?? 0) > limitSeq) end--;
    const batch = messages.slice(Math.max(0, cursor - redeliver), end);
    cursor = end;
    return batch;
  };

  moveClock();
  for (const step of plan.steps) {
    if (
      cursor >= messages.length &&
      (step.kind === 'batch' || step.kind === 'crash-before-commit' || step.kind === 'crash-after-commit')
    )
      continue;
    switch (step.kind) {
      case 'batch':
        engine.applyBatch(take(step.size, step.redeliver));
        break;
      case 'crash-before-commit':
        take(step.size);
        restart();
        break;
      case 'crash-after-commit':
        engine.applyBatch(take(step.size));
        restart();
        break;
      case 'publish':
        publish(step.count, true);
        break;
      case 'crash-after-publish':
        publish(step.count, false);
        restart();
        break;
      case 'passivate':
        engine.passivateAll();
        break;
    }
    moveClock();
  }
  while (cursor < messages.length) {
    engine.applyBatch(take(1));
    moveClock();
  }
  moveClock();
  publish(Number.MAX_SAFE_INTEGER, true);
  const timers = timerStatuses(db, saga.name);
  const checkpoint = engine.checkpoint;
  engine.close();
  return { db, published, duplicatesDropped, timers, checkpoint };
}
