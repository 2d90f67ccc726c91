/**
 * A running saga: the saga engine inside a worker (src/runtime/worker.ts), plus the dispatcher that
 * publishes its outbox to the COMMANDS stream after each commit (`Nats-Msg-Id = command_id`, marked
 * done on the ack), the scheduler that fires its due timers, and the pruner that deletes published
 * commands, ended timers and finished records past their retentions.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { WorkerOptions } from '../config/config.js';
import type { ProsaEvent } from '../define/projection.js';
import type { SagaDefinition } from '../define/saga.js';
import type { BatchPolicy } from '../engine/batchLoop.js';
import { createSagaEngine } from '../engine/sagaEngine.js';
import type { Logger } from '../logger.js';
import { createOutboxDispatcher } from '../nats/publishAfterCommit.js';
import type { Metrics } from '../serve/metrics.js';
import type { SqliteDatabase } from '../store/database.js';
import { createOutboxReader, createPublishedPruner, type OutboxCommand } from '../store/outbox.js';
import { createFinishedPruner } from '../store/sagaInstances.js';
import { createEndedTimerPruner } from '../store/timers.js';
import { type Clock, systemClock } from '../time/clock.js';
import { createPruner, type PruneTask } from './pruner.js';
import { createTimerScheduler } from './timerScheduler.js';
import { createWorker, type Worker } from './worker.js';

export interface SagaWorkerOptions {
  definition: SagaDefinition<ProsaEvent, string, string>;
  options: WorkerOptions;
  db: SqliteDatabase;
  js: JetStreamClient;
  jsm: JetStreamManager;
  log: Logger;
  /** @default systemClock */
  clock?: Clock;
  /** @default none */
  metrics?: Metrics;
}

/** What a saga's retentions let go, each kind deleted by its own table's module. */
function sagaPruneTasks(db: SqliteDatabase, saga: string, options: WorkerOptions): PruneTask[] {
  const task = (
    what: string,
    retentionMs: number,
    prune: (saga: string, before: number, limit: number) => number,
  ): PruneTask => ({ what, retentionMs, remove: (before, limit) => prune(saga, before, limit) });
  return [
    task('outbox', options.publishedRetention, createPublishedPruner(db)),
    task('timers', options.timerRetention, createEndedTimerPruner(db)),
    task('finished', options.finishedRetention, createFinishedPruner(db)),
  ];
}

export function createSagaWorker(o: SagaWorkerOptions): Worker {
  const { definition, options, db, js } = o;
  const clock = o.clock ?? systemClock;
  const log = o.log.child({ saga: definition.name });
  // The worker decides what a bad event does; the timers below need the engine before the worker exists.
  let workerPolicy: BatchPolicy | undefined;
  const engine = createSagaEngine(definition, db, {
    maxActors: options.maxActors,
    policy: {
      verdict: (letter) => workerPolicy?.verdict?.(letter) ?? options.onError,
      skipped: (seq) => workerPolicy?.skipped?.(seq),
    },
    stream: definition.source.stream,
    clock,
    timeouts: options.timeouts,
    deadLetters: options.deadLetters,
  });
  const commands = createOutboxReader(db);
  const outbox = createOutboxDispatcher<OutboxCommand>(
    {
      pending: () => commands.pending(definition.name),
      publish: async (r) => {
        await js.publish(r.subject, r.body, { msgID: r.commandId });
      },
      markDone: (rows) => {
        commands.markPublished(rows, clock.now());
        for (const r of rows) log.debug({ commandId: r.commandId, subject: r.subject }, 'command published');
      },
    },
    log,
    'commands',
  );
  const timers = createTimerScheduler({
    clock,
    nextDue: () => engine.nextTimeoutAt(),
    fire: () => {
      const fired = engine.fireDueTimers();
      if (fired > 0) {
        log.info({ fired }, 'timeouts fired');
        void outbox.kick();
      }
      return fired;
    },
    onError: (e) => log.error({ err: e }, 'firing timeouts failed; retrying'),
  });
  const pruner = createPruner({ clock, log, tasks: sagaPruneTasks(db, definition.name, options) });
  return createWorker({
    kind: 'saga',
    name: definition.name,
    source: definition.source,
    engine: (policy) => {
      workerPolicy = policy;
      return engine;
    },
    options,
    db,
    js,
    jsm: o.jsm,
    log: o.log,
    clock,
    ...(o.metrics ? { metrics: o.metrics } : {}),
    hooks: {
      afterBatch: () => {
        void outbox.kick();
        timers.poke();
      },
      started: () => {
        void outbox.kick();
        timers.start();
        pruner.start();
      },
      stopping: async () => {
        timers.stop();
        pruner.stop();
        await Promise.race([outbox.kick(), new Promise((r) => setTimeout(r, 2_000))]);
        outbox.close();
      },
    },
  });
}
