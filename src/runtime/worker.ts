/**
 * A running projection or saga, assembled from its parts: its engine fed by its durable consumer
 * (./engineFeed.ts) from where the checkpoint says (./startPosition.ts: gap detection at every
 * (re)start), the error policy (./errorPolicy.ts: retries with backoff, then dead-letter or stop),
 * its dead letter dispatcher, callers waiting for a checkpoint (./checkpointWaiters.ts), pause and
 * resume, progress logs and status. What differs between the two kinds (outbox, timers) comes in
 * through `hooks`.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { WorkerOptions } from '../config/config.js';
import type { ProjectionSource, RawEvent } from '../define/projection.js';
import type { BatchPolicy } from '../engine/batchLoop.js';
import type { OutOfOrderOutcome, ProjectionEngine, Released } from '../engine/projectionEngine.js';
import type { Logger } from '../logger.js';
import { createDeadLetterDispatcher } from '../nats/deadLetterDispatcher.js';
import type { Metrics } from '../serve/metrics.js';
import type { SqliteDatabase } from '../store/database.js';
import { createDeadLetterOutbox, markDeadLetterSkipped, retryRecorder } from '../store/deadLetters.js';
import { pidAlive } from '../store/liveness.js';
import { clearPause, readPause, recordPause } from '../store/pauses.js';
import type { WorkerState } from '../store/workers.js';
import { type Clock, isoNow } from '../time/clock.js';
import { createCheckpointWaiters } from './checkpointWaiters.js';
import { createEngineFeed } from './engineFeed.js';
import { createErrorPolicy } from './errorPolicy.js';
import { createWorkerReporter } from './workerReporter.js';

/** What the worker needs of an engine: the projection engine's batch surface, which the saga engine has too. */
export type BatchEngine = Pick<
  ProjectionEngine,
  | 'checkpoint'
  | 'liveActors'
  | 'applyBatch'
  | 'applyOutOfOrder'
  | 'skipDeadLetter'
  | 'waiting'
  | 'reload'
  | 'close'
>;

export interface PauseRequest {
  reason: string;
  /** The pausing process: when it dies, the pause lapses (a rebuild killed mid-swap). */
  byPid?: number;
}

export interface Worker {
  readonly name: string;
  readonly kind: 'projection' | 'saga';
  readonly stream: string;
  readonly consumer: string;
  readonly subjects: readonly string[];
  /** The last applied stream sequence. */
  readonly checkpoint: number;
  readonly liveActors: number;
  readonly state: WorkerState;
  readonly eventsPerSecond: number;
  readonly detail: string | undefined;
  start(): Promise<void>;
  /** Finishes the batch at hand, commits, acks and stops. */
  stop(): Promise<void>;
  /** Finishes the batch at hand, commits, acks, and stops consuming until `resume()`; the pause is kept in SQLite. */
  pause(request: PauseRequest): Promise<void>;
  /** Consumes again from the checkpoint (re-read from SQLite). */
  resume(): Promise<void>;
  /** Resolves once the checkpoint has reached `seq`; rejects after `timeoutMs` or if the worker stops. */
  waitFor(seq: number, timeoutMs: number): Promise<void>;
  /** Feeds dead letters again (after a fix): each applied once, or dead-lettered again with the new reason. */
  retry(messages: readonly RawEvent[]): OutOfOrderOutcome[];
  /** Gives up on the dead letter `seq` (resolution 'skipped'): what waited behind it applies in order. */
  skip(seq: number): Released;
  /** How many events wait behind a dead letter. */
  readonly waiting: number;
}

export interface WorkerHooks {
  /** After each committed batch. */
  afterBatch?: () => void;
  /** After the consumer started. */
  started?: () => void;
  /** Before the engine closes, after the consumer stopped. */
  stopping?: () => Promise<void>;
}

/** What the runtime hands every worker it starts. */
export interface WorkerEnvironment {
  options: WorkerOptions;
  db: SqliteDatabase;
  js: JetStreamClient;
  jsm: JetStreamManager;
  log: Logger;
  /** @default systemClock */
  clock?: Clock;
  /** Where each committed batch is counted (src/serve/metrics.ts). @default none */
  metrics?: Metrics;
}

export interface CreateWorkerOptions extends WorkerEnvironment {
  kind: 'projection' | 'saga';
  name: string;
  source: ProjectionSource;
  /** Creates the engine with the worker's error policy. */
  engine: (policy: BatchPolicy) => BatchEngine;
  clock: Clock;
  hooks?: WorkerHooks;
}

/** A pause left by a process that died (a rebuild killed mid-swap) lapses: checked once a second. */
function createStalePauseWatch(log: Logger, resume: () => void): (byPid: number | undefined) => void {
  let timer: NodeJS.Timeout | undefined;
  return (byPid) => {
    if (timer) clearInterval(timer);
    timer = undefined;
    if (!byPid) return;
    timer = setInterval(() => {
      if (pidAlive(byPid)) return;
      log.warn({ byPid }, 'the process that paused this worker is gone; resuming');
      resume();
    }, 1_000);
    timer.unref();
  };
}

function logRetried(log: Logger, outcomes: readonly OutOfOrderOutcome[]): void {
  for (const o of outcomes) {
    if (o.applied) log.info({ seq: o.seq }, 'dead letter applied on retry');
    else log.warn({ seq: o.seq, reason: o.reason }, 'dead letter failed again on retry');
  }
}

export function createWorker(o: CreateWorkerOptions): Worker {
  const { name, options, db, js, clock, hooks = {} } = o;
  const stream = o.source.stream;
  const log = o.log.child({ [o.kind]: name });
  const consumerName = options.consumer ?? name;
  const policy = createErrorPolicy({ db, worker: name, retries: options.retries, onError: options.onError });
  const engine = o.engine(policy);
  const dlq = createDeadLetterDispatcher({
    js,
    clock,
    consumer: consumerName,
    log,
    letters: createDeadLetterOutbox(db, name),
  });
  const reporter = createWorkerReporter({
    db,
    worker: name,
    kind: o.kind,
    log,
    clock,
    liveActors: () => engine.liveActors,
  });
  const waiters = createCheckpointWaiters(`${o.kind} ${name}`, () => engine.checkpoint);
  const feed = createEngineFeed({
    ...o, // kind, name, source, options, db, js, jsm, clock, metrics
    consumer: consumerName,
    log,
    engine,
    policy,
    reporter,
    waiters,
    kickDeadLetters: () => void dlq.kick(),
    afterBatch: hooks.afterBatch,
    started: hooks.started,
  });

  const watchStalePause = createStalePauseWatch(log, () => void worker.resume());

  const worker: Worker = {
    name,
    kind: o.kind,
    stream,
    consumer: consumerName,
    subjects: o.source.subjects,
    get checkpoint() {
      return engine.checkpoint;
    },
    get liveActors() {
      return engine.liveActors;
    },
    get waiting() {
      return engine.waiting;
    },
    get state() {
      return reporter.state;
    },
    get eventsPerSecond() {
      return reporter.rate;
    },
    get detail() {
      return reporter.detail;
    },
    async start() {
      reporter.start();
      void dlq.kick();
      const paused = readPause(db, name);
      if (paused && (!paused.byPid || pidAlive(paused.byPid))) {
        reporter.set('paused', paused.reason);
        log.warn({ reason: paused.reason }, 'paused (prosa resume to continue)');
        watchStalePause(paused.byPid ?? undefined);
        return;
      }
      if (paused) clearPause(db, name);
      await feed.start();
    },
    async pause(request) {
      recordPause(db, name, { reason: request.reason, byPid: request.byPid ?? null }, isoNow(clock));
      await feed.stop();
      reporter.set('paused', request.reason);
      log.info({ reason: request.reason, checkpoint: engine.checkpoint }, 'paused');
      watchStalePause(request.byPid);
    },
    async resume() {
      watchStalePause(undefined);
      clearPause(db, name);
      policy.reset();
      if (feed.closed || feed.consuming) return;
      log.info({ checkpoint: engine.checkpoint }, 'resuming');
      // A rebuild's swap, done while paused, may have opened dead letters again: publish them.
      void dlq.kick();
      feed.rereadCheckpoint();
      await feed.start();
    },
    async stop() {
      watchStalePause(undefined);
      await feed.stop({ forGood: true });
      await hooks.stopping?.();
      await Promise.race([dlq.kick(), new Promise((r) => setTimeout(r, 2_000))]);
      dlq.close();
      reporter.stop();
      engine.close();
      waiters.rejectAll();
    },
    retry(messages) {
      readAgainIfIdle();
      const outcomes = engine.applyOutOfOrder(messages, retryRecorder(db, name, stream, clock));
      void dlq.kick();
      logRetried(log, outcomes);
      return outcomes;
    },
    skip(seq) {
      readAgainIfIdle();
      const released = engine.skipDeadLetter(seq, () => markDeadLetterSkipped(db, name, seq, isoNow(clock)));
      void dlq.kick();
      log.info({ seq, released }, 'dead letter skipped');
      return released;
    },
    waitFor: (seq, timeoutMs) => waiters.waitFor(seq, timeoutMs),
  };
  /**
   * A worker that is not consuming (paused, stopped at a bad event) may have had its database
   * changed under it, by a rebuild's swap: a retry or a skip acts on what SQLite holds now.
   */
  function readAgainIfIdle(): void {
    if (feed.consuming) return;
    engine.reload();
    feed.rereadCheckpoint();
  }
  return worker;
}
