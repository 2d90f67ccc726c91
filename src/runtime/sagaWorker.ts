/**
 * A running saga: the saga engine inside a worker (src/runtime/worker.ts), plus the dispatcher that
 * publishes its outbox to the COMMANDS stream after each commit (`Nats-Msg-Id = command_id`, marked
 * done on the ack), the scheduler that fires its due timers, and the pruner that deletes published
 * commands, ended timers and finished records past their retentions.
 *
 * With a lease (./sagaLease.ts) the dispatcher and the timers run only while this process holds it;
 * a standby applies events alone and marks its rows up to where the active published as published.
 * A new active first catches up to the former's position (the lease's floor) before it dispatches
 * or fires anything, and each command it publishes carries the lease revision (`Prosa-Lease`).
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import type { WorkerOptions } from '../config/config.js';
import type { ProsaEvent } from '../define/projection.js';
import type { SagaDefinition } from '../define/saga.js';
import type { BatchPolicy } from '../engine/batchLoop.js';
import { createSagaEngine } from '../engine/sagaEngine.js';
import type { Logger } from '../logger.js';
import type { LeaseStore } from '../nats/leaseStore.js';
import { createOutboxDispatcher, type OutboxSource } from '../nats/publishAfterCommit.js';
import type { TimerJournal } from '../nats/timerJournal.js';
import type { SqliteDatabase } from '../store/database.js';
import {
  createOutboxReader,
  createPublishedPruner,
  eventOfPosition,
  type OutboxCommand,
  type OutboxReader,
} from '../store/outbox.js';
import { createFinishedPruner } from '../store/sagaInstances.js';
import { createEndedTimerPruner } from '../store/timers.js';
import { type Clock, systemClock } from '../time/clock.js';
import { createJournaledTimers } from './journaledTimers.js';
import { createPruner, type PruneTask } from './pruner.js';
import { createSagaLease, type SagaLease } from './sagaLease.js';
import { createTimerScheduler } from './timerScheduler.js';
import { createWorker, type Worker, type WorkerEnvironment } from './worker.js';

export interface SagaWorkerOptions extends WorkerEnvironment {
  definition: SagaDefinition<ProsaEvent, string, string>;
  /** Where the saga's lease is kept; without one this process is always active. @default none */
  leases?: LeaseStore;
  /** Where fired timers are put on record, so standbys fire them too (./journaledTimers.ts). @default none */
  firings?: TimerJournal;
}

/** A saga worker, and its lease when it has one. */
export interface SagaWorker extends Worker {
  readonly lease: SagaLease | undefined;
  /** Gives the lease up at once (after the dispatch under way); false when this process did not hold it. */
  handover(): Promise<boolean>;
}

/** The header naming the lease revision under which a command was published. */
export const LEASE_HEADER = 'Prosa-Lease';

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

/**
 * The outbox as the dispatcher sees it: with a lease, nothing while this process may not act, the
 * rows the former holder published marked so first, and each command fenced and stamped with the
 * lease revision.
 */
function commandSource(o: {
  saga: string;
  commands: OutboxReader;
  js: JetStreamClient;
  clock: Clock;
  log: Logger;
  lease: () => SagaLease | undefined;
  acting: () => boolean;
}): OutboxSource<OutboxCommand> {
  const { saga, commands, js, clock, log } = o;
  return {
    pending: () => {
      const lease = o.lease();
      if (!lease) return commands.pending(saga);
      if (!o.acting()) return [];
      commands.markPublishedThrough(saga, lease.floor, clock.now());
      return commands.pending(saga);
    },
    publish: async (r) => {
      const lease = o.lease();
      if (!lease) {
        await js.publish(r.subject, r.body, { msgID: r.commandId });
        return;
      }
      // Fenced per row: a page is sent at once, and the lease may have been lost meanwhile.
      if (!lease.mayDispatch()) throw new Error(`lease of saga ${saga} lost; not publishing`);
      const h = headers();
      h.set(LEASE_HEADER, String(lease.revision));
      await js.publish(r.subject, r.body, { msgID: r.commandId, headers: h });
    },
    markDone: (rows) => {
      commands.markPublished(rows, clock.now());
      o.lease()?.published();
      for (const r of rows) log.debug({ commandId: r.commandId, subject: r.subject }, 'command published');
    },
  };
}

export function createSagaWorker(o: SagaWorkerOptions): SagaWorker {
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
    positionFloor: () => Math.max(lease?.floor ?? 0, lease?.through ?? 0),
  });
  const commands = createOutboxReader(db);
  const saga = definition.name;
  let lease: SagaLease | undefined;
  /** Whether this process may act now: it holds the lease and has applied what the former holder had. */
  const acting = () => !lease || (lease.mayDispatch() && engine.checkpoint >= eventOfPosition(lease.floor));
  const outbox = createOutboxDispatcher<OutboxCommand>(
    commandSource({ saga, commands, js, clock, log, lease: () => lease, acting }),
    log,
    'commands',
  );
  const fired = (count: number) => {
    log.info({ fired: count }, 'timeouts fired');
    void outbox.kick();
  };
  const journaled =
    o.firings &&
    createJournaledTimers({
      saga,
      engine,
      journal: o.firings,
      acting,
      clock,
      log,
      fired,
      lookAgain: () => timers.poke(),
    });
  const timers = createTimerScheduler({
    clock,
    nextDue: () => (journaled ? journaled.nextDue() : acting() ? engine.nextTimeoutAt() : undefined),
    fire: () => {
      if (journaled) return journaled.fire();
      if (!acting()) return 0;
      const count = engine.fireDueTimers();
      if (count > 0) fired(count);
      return count;
    },
    onError: (e) => log.error({ err: e }, 'firing timeouts failed; retrying'),
  });
  const pruner = createPruner({ clock, log, tasks: sagaPruneTasks(db, definition.name, options) });
  let sharedDurableWarned = false;
  if (o.leases) {
    lease = createSagaLease({
      saga,
      store: o.leases,
      ttlMs: options.leaseTtl,
      log,
      publishedThrough: () =>
        Math.min(commands.publishedThrough(saga, engine.checkpoint), (journaled?.inFlight ?? Infinity) - 1),
      epoch: async () => (await o.jsm.streams.info(definition.source.stream)).created,
      onActive: (floor) => {
        if (engine.checkpoint < eventOfPosition(floor))
          log.warn(
            { checkpoint: engine.checkpoint, floor: eventOfPosition(floor) },
            'active, catching up to where the former active process published before dispatching',
          );
        void outbox.kick();
        timers.poke();
      },
      onStandby: () => timers.poke(),
      // A dispatch or a timer look that ended while this process could not act is taken up again.
      onRenewed: () => {
        void outbox.kick();
        timers.poke();
      },
      observed: (through) => {
        commands.markPublishedThrough(saga, through, clock.now());
        // Another process runs this saga: with the same durable name both would consume one durable.
        if (options.consumer === saga && !sharedDurableWarned) {
          sharedDurableWarned = true;
          log.warn(
            { consumer: options.consumer },
            'another process runs this saga with the same durable consumer name; give each process its own PROSA_INSTANCE',
          );
        }
      },
    });
  }
  const worker = createWorker({
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
        lease?.start();
        void outbox.kick();
        timers.start();
        pruner.start();
      },
      stopping: async () => {
        timers.stop();
        pruner.stop();
        await Promise.race([outbox.kick(), new Promise((r) => setTimeout(r, 2_000))]);
        outbox.close();
        // Given up at once, so a standby need not wait for the time to live.
        lease?.stop();
        await lease?.release();
      },
    },
  });
  return Object.assign(worker, {
    lease,
    async handover() {
      if (!lease) return false;
      return lease.release(() =>
        Promise.race([outbox.kick(), new Promise<void>((r) => setTimeout(r, 2_000))]),
      );
    },
  });
}
