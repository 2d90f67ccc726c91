/**
 * A running projection or saga: its engine fed by its durable consumer (src/nats/consumer.ts), its dead
 * letter dispatcher, gap detection at every (re)start, the error policy (retries with backoff, then
 * dead-letter or stop), pause and resume, progress logs and status. What differs between the two
 * kinds (outbox, timers) comes in through `hooks`.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { WorkerOptions } from '../config/config.js';
import type { ProjectionSource, RawEvent } from '../define/projection.js';
import type { BadEventVerdict, BatchPolicy, DeadLetter, OutOfOrderOutcome } from '../engine/batchLoop.js';
import type { ProjectionEngine } from '../engine/projectionEngine.js';
import type { Logger } from '../logger.js';
import { createStreamConsumer, type StreamConsumer } from '../nats/consumer.js';
import { createDeadLetterDispatcher } from '../nats/deadLetterDispatcher.js';
import type { Metrics } from '../serve/metrics.js';
import type { SqliteDatabase } from '../store/database.js';
import { createDeadLetterOutbox, retryRecorder } from '../store/deadLetters.js';
import { recordGap } from '../store/gaps.js';
import { pidAlive } from '../store/liveness.js';
import { clearPause, readPause, recordPause } from '../store/pauses.js';
import { readSkips } from '../store/skips.js';
import type { WorkerState } from '../store/workers.js';
import { createWorkerReporter } from './workerReporter.js';

/** What the worker needs of an engine: the projection engine's batch surface, which the saga engine has too. */
export type BatchEngine = Pick<
  ProjectionEngine,
  'checkpoint' | 'liveActors' | 'applyBatch' | 'applyOutOfOrder' | 'reload' | 'close'
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
}

export interface WorkerHooks {
  /** After each committed batch. */
  afterBatch?: () => void;
  /** After the consumer started. */
  started?: () => void;
  /** Before the engine closes, after the consumer stopped. */
  stopping?: () => Promise<void>;
}

export interface CreateWorkerOptions {
  kind: 'projection' | 'saga';
  name: string;
  source: ProjectionSource;
  /** Creates the engine with the worker's error policy. */
  engine: (policy: BatchPolicy) => BatchEngine;
  options: WorkerOptions;
  db: SqliteDatabase;
  js: JetStreamClient;
  jsm: JetStreamManager;
  log: Logger;
  now: () => number;
  hooks?: WorkerHooks;
  /** Where each committed batch is counted (src/serve/metrics.ts). @default none */
  metrics?: Metrics;
}

class GapStop extends Error {
  constructor(from: number, to: number) {
    super(`gap: messages ${from}..${to} were dropped by the stream before they were applied (onGap: stop)`);
  }
}

export function createWorker(o: CreateWorkerOptions): Worker {
  const { name, options, db, js, jsm, now, hooks = {} } = o;
  const stream = o.source.stream;
  const log = o.log.child({ [o.kind]: name });
  const consumerName = options.consumer ?? name;

  // The error policy: retry a bad event `retries.attempts` times with backoff, then `onError`.
  const attempts = new Map<number, number>();
  let skips = new Map<number, string>();
  const loadSkips = () => {
    skips = readSkips(db, name);
  };
  const policy: BatchPolicy = {
    verdict(letter: DeadLetter): BadEventVerdict {
      const tried = attempts.get(letter.seq) ?? 0;
      if (tried < options.retries.attempts) return 'retry';
      attempts.delete(letter.seq);
      return options.onError;
    },
    skipped: (seq) => skips.get(seq),
  };
  const engine = o.engine(policy);
  const dlq = createDeadLetterDispatcher({
    js,
    consumer: consumerName,
    log,
    letters: createDeadLetterOutbox(db, name),
  });
  const reporter = createWorkerReporter({
    db,
    worker: name,
    kind: o.kind,
    log,
    now,
    liveActors: () => engine.liveActors,
  });
  const waiters = new Set<{ seq: number; resolve: () => void; reject: (e: Error) => void }>();
  let consumer: StreamConsumer | undefined;
  let starts = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let stalePauseTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  const settleWaiters = () => {
    for (const w of waiters) {
      if (engine.checkpoint >= w.seq) {
        waiters.delete(w);
        w.resolve();
      }
    }
  };

  /** Where the durable starts: checkpoint + 1, or past a gap the stream's limits left. */
  async function startSeq(): Promise<number> {
    if (starts++ > 0) engine.reload();
    loadSkips();
    const first = (await jsm.streams.info(stream)).state.first_seq;
    const checkpoint = engine.checkpoint;
    if (checkpoint > 0 && checkpoint + 1 < first) {
      recordGap(db, name, { from: checkpoint + 1, to: first - 1 }, new Date(now()).toISOString());
      log.error(
        { checkpoint, streamFirstSeq: first, missed: first - checkpoint - 1 },
        `GAP: stream ${stream} no longer holds messages ${checkpoint + 1}..${first - 1} (its limits dropped them before they were applied); ${
          options.onGap === 'stop' ? 'stopping as configured (onGap: stop)' : `continuing from ${first}`
        }`,
      );
      if (options.onGap === 'stop') throw new GapStop(checkpoint + 1, first - 1);
    }
    return Math.max(checkpoint + 1, first);
  }

  function onBatch(messages: readonly RawEvent[], pending: number) {
    const started = performance.now();
    const result = engine.applyBatch(messages);
    const ms = performance.now() - started;
    reporter.batch(messages.length, ms, pending, engine.checkpoint);
    o.metrics?.batchCommitted(name, o.kind, result.applied, result.deadLetters.length, ms / 1000);
    if (result.deadLetters.length > 0) void dlq.kick();
    hooks.afterBatch?.();
    settleWaiters();
    const stop = result.stoppedAt;
    if (!stop) return { ackThrough: result.checkpoint };
    if (stop.retry) {
      const tried = (attempts.get(stop.seq) ?? 0) + 1;
      attempts.set(stop.seq, tried);
      const delay = options.retries.backoff * 2 ** (tried - 1);
      log.warn(
        { seq: stop.seq, subject: stop.subject, reason: stop.reason, attempt: tried, retryInMs: delay },
        'bad event: retrying',
      );
      reporter.set(
        'restarting',
        `retrying event ${stop.seq} (attempt ${tried} of ${options.retries.attempts}): ${stop.reason}`,
      );
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        if (!stopped && !consumer) void startConsuming();
      }, delay);
    } else {
      log.error(
        { seq: stop.seq, subject: stop.subject, reason: stop.reason },
        'bad event: stopping at it as configured (onError: stop)',
      );
      reporter.set(
        'stopped',
        `stopped at bad event ${stop.seq}: ${stop.reason} (fix and \`prosa resume ${name}\`, or \`prosa skip ${name} --seq ${stop.seq}\`)`,
      );
    }
    return { ackThrough: result.checkpoint, stop: true };
  }

  async function startConsuming(): Promise<void> {
    const subjects = o.source.subjects;
    const c = createStreamConsumer({
      js,
      jsm,
      stream,
      durable: consumerName,
      ...(subjects.length === 1 ? { filterSubject: subjects[0] as string } : {}),
      batch: options.batch,
      ackWaitMs: options.ackWait,
      maxAckPending: options.maxAckPending,
      startSeq,
      log,
      onState: (state, detail) => {
        if (state === 'stopped' && reporter.state === 'stopped') return;
        reporter.set(state, detail);
      },
      onBatch,
    });
    consumer = c;
    // A consumer that stops by itself (onError: stop, a retry, a gap) leaves room for the next one.
    void c.done.then(() => {
      if (consumer === c) consumer = undefined;
    });
    try {
      await c.start();
    } catch (e) {
      consumer = undefined;
      if (e instanceof GapStop) {
        reporter.set('stopped', e.message);
        return;
      }
      throw e;
    }
    hooks.started?.();
  }

  async function stopConsuming(): Promise<void> {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = undefined;
    const c = consumer;
    consumer = undefined;
    await c?.stop();
  }

  /** A pause left by a process that died (a rebuild killed mid-swap) lapses. */
  function watchStalePause(byPid: number | undefined) {
    if (stalePauseTimer) clearInterval(stalePauseTimer);
    stalePauseTimer = undefined;
    if (!byPid) return;
    stalePauseTimer = setInterval(() => {
      if (pidAlive(byPid)) return;
      log.warn({ byPid }, 'the process that paused this worker is gone; resuming');
      void worker.resume();
    }, 1_000);
    stalePauseTimer.unref();
  }

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
      await startConsuming();
    },
    async pause(request) {
      recordPause(
        db,
        name,
        { reason: request.reason, byPid: request.byPid ?? null },
        new Date(now()).toISOString(),
      );
      await stopConsuming();
      reporter.set('paused', request.reason);
      log.info({ reason: request.reason, checkpoint: engine.checkpoint }, 'paused');
      watchStalePause(request.byPid);
    },
    async resume() {
      watchStalePause(undefined);
      clearPause(db, name);
      attempts.clear();
      if (stopped || consumer) return;
      log.info({ checkpoint: engine.checkpoint }, 'resuming');
      starts = Math.max(starts, 1); // re-read the checkpoint: it may have moved (a rebuild swapped, a reset)
      await startConsuming();
    },
    async stop() {
      stopped = true;
      watchStalePause(undefined);
      await stopConsuming();
      await hooks.stopping?.();
      await Promise.race([dlq.kick(), new Promise((r) => setTimeout(r, 2_000))]);
      dlq.close();
      reporter.stop();
      engine.close();
      for (const w of waiters)
        w.reject(new Error(`${o.kind} ${name} stopped at ${engine.checkpoint} before reaching ${w.seq}`));
      waiters.clear();
    },
    retry(messages) {
      const outcomes = engine.applyOutOfOrder(messages, retryRecorder(db, name, stream));
      void dlq.kick();
      for (const o of outcomes) {
        if (o.applied) log.info({ seq: o.seq }, 'dead letter applied on retry');
        else log.warn({ seq: o.seq, reason: o.reason }, 'dead letter failed again on retry');
      }
      return outcomes;
    },
    waitFor(seq, timeoutMs) {
      if (engine.checkpoint >= seq) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const w = {
          seq,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
          reject: (e: Error) => {
            clearTimeout(t);
            reject(e);
          },
        };
        const t = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`${o.kind} ${name} at ${engine.checkpoint}, not ${seq}, after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
  };
  return worker;
}
