/**
 * A worker's engine fed by its durable consumer (src/nats/consumer.ts): each batch applied and
 * committed, then reported, counted and announced; a batch stopped at a bad event either restarts
 * the consumer after the error policy's backoff or leaves the worker stopped at it. A batch that
 * does not commit (a full disk, a failing write) is not acked: the consumer restarts from the
 * checkpoint after a growing backoff, and the worker says why until a batch commits again.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { WorkerOptions } from '../config/config.js';
import type { ProjectionSource, RawEvent } from '../define/projection.js';
import type { BatchResult } from '../engine/batchLoop.js';
import type { ProjectionEngine } from '../engine/projectionEngine.js';
import type { Logger } from '../logger.js';
import { type BatchDisposition, createStreamConsumer, type StreamConsumer } from '../nats/consumer.js';
import type { Metrics } from '../serve/metrics.js';
import type { SqliteDatabase } from '../store/database.js';
import type { Clock } from '../time/clock.js';
import type { CheckpointWaiters } from './checkpointWaiters.js';
import type { ErrorPolicy, RetryDelay } from './errorPolicy.js';
import { GapStop, startPosition } from './startPosition.js';
import type { WorkerReporter } from './workerReporter.js';

/** What the feed needs of an engine (the saga engine has it too). */
export type FedEngine = Pick<ProjectionEngine, 'checkpoint' | 'applyBatch' | 'reload'>;

export interface EngineFeedOptions {
  kind: 'projection' | 'saga';
  name: string;
  source: ProjectionSource;
  /** The durable consumer's name. */
  consumer: string;
  options: WorkerOptions;
  db: SqliteDatabase;
  js: JetStreamClient;
  jsm: JetStreamManager;
  log: Logger;
  clock: Clock;
  engine: FedEngine;
  policy: ErrorPolicy;
  reporter: WorkerReporter;
  waiters: CheckpointWaiters;
  /** Publishes the dead letters a batch committed. */
  kickDeadLetters: () => void;
  /** After each committed batch. */
  afterBatch?: () => void;
  /** After the consumer started. */
  started?: () => void;
  metrics?: Metrics;
}

export interface EngineFeed {
  /** A consumer is running (or starting). */
  readonly consuming: boolean;
  /** Whether `stop({ forGood: true })` was called: nothing starts a consumer after it. */
  readonly closed: boolean;
  start(): Promise<void>;
  /** Finishes the batch at hand, commits, acks and stops; a retry due is called off. */
  stop(options?: { forGood?: boolean }): Promise<void>;
  /** The next start re-reads the checkpoint: it may have moved (a rebuild swapped, a reset). */
  rereadCheckpoint(): void;
}

type StoppedAt = NonNullable<BatchResult['stoppedAt']>;

/** The wait before the first retry of a batch that did not commit; it doubles up to the longest. */
const COMMIT_RETRY_FIRST_MS = 250;
const COMMIT_RETRY_LONGEST_MS = 10_000;

/** A failed commit's reason with SQLite's code, e.g. `database or disk is full (SQLITE_FULL)`. */
function commitFailureReason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}

/**
 * Batches that did not commit in a row. The engine left SQLite and itself as they were; the worker
 * says why (state `restarting`) until a batch commits, and waits longer before each next attempt.
 */
function createCommitFailures(log: Logger, reporter: WorkerReporter) {
  let failure: { attempts: number; detail: string } | undefined;
  return {
    get detail(): string | undefined {
      return failure?.detail;
    },
    /** Logs and reports a batch that did not commit; returns the wait before the next attempt. */
    failed(e: unknown, checkpoint: number): number {
      const attempts = (failure?.attempts ?? 0) + 1;
      const retryInMs = Math.min(COMMIT_RETRY_FIRST_MS * 2 ** (attempts - 1), COMMIT_RETRY_LONGEST_MS);
      const reason = commitFailureReason(e);
      log.error(
        { err: e, checkpoint, attempt: attempts, retryInMs },
        `batch not committed: ${reason}; nothing acked, retrying from the checkpoint`,
      );
      failure = {
        attempts,
        detail: `batch not committed (attempt ${attempts}, retrying from checkpoint ${checkpoint}): ${reason}`,
      };
      reporter.set('restarting', failure.detail);
      return retryInMs;
    },
    /** A batch committed: running again, if it was not. */
    committed(): void {
      if (!failure) return;
      log.info({ failedAttempts: failure.attempts }, 'batch committed again');
      failure = undefined;
      reporter.set('running');
    },
    /** A pause or a stop is the operator's: the next start counts failures afresh. */
    reset(): void {
      failure = undefined;
    },
  };
}

/** Logs and reports a batch stopped at a bad event: a retry due after `retry`, or a stop as configured. */
function announceStop(o: EngineFeedOptions, stop: StoppedAt, retry?: RetryDelay): void {
  const { log, reporter, name } = o;
  if (retry) {
    log.warn(
      {
        seq: stop.seq,
        subject: stop.subject,
        reason: stop.reason,
        attempt: retry.attempt,
        retryInMs: retry.delayMs,
      },
      'bad event: retrying',
    );
    reporter.set(
      'restarting',
      `retrying event ${stop.seq} (attempt ${retry.attempt} of ${o.options.retries.attempts}): ${stop.reason}`,
    );
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
}

/** The durable consumer feeding `onBatch`, its (re)starts and failures reported as the worker's state. */
function streamConsumerFor(
  o: EngineFeedOptions,
  startSeq: () => Promise<number>,
  onBatch: (messages: readonly RawEvent[], pending: number) => BatchDisposition,
  retryDue: () => boolean,
  commitFailing: () => string | undefined,
): StreamConsumer {
  const { options, reporter } = o;
  const subjects = o.source.subjects;
  return createStreamConsumer({
    js: o.js,
    jsm: o.jsm,
    stream: o.source.stream,
    durable: o.consumer,
    ...(subjects.length === 1 ? { filterSubject: subjects[0] as string } : {}),
    batch: options.batch,
    ackWaitMs: options.ackWait,
    maxAckPending: options.maxAckPending,
    startSeq,
    log: o.log,
    onState: (state, detail, pending) => {
      // A consumer that stopped at a bad event leaves the state that says why (stopped, or retrying).
      if (state === 'stopped' && (reporter.state === 'stopped' || retryDue())) return;
      // Consuming again after a failed commit is not running until a batch commits.
      const failing = commitFailing();
      if (state === 'running' && failing) reporter.set('restarting', failing);
      else reporter.set(state, detail, pending);
    },
    onBatch,
  });
}

export function createEngineFeed(o: EngineFeedOptions): EngineFeed {
  const { name, options, engine, policy, reporter, log } = o;
  let consumer: StreamConsumer | undefined;
  let starts = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let closed = false;
  /** Stopped by the worker (pause, stop): a retry timer set by the last batch must not restart it. */
  let halted = false;
  const commitFailures = createCommitFailures(log, reporter);
  const position = {
    db: o.db,
    jsm: o.jsm,
    worker: name,
    stream: o.source.stream,
    onGap: options.onGap,
    log,
    clock: o.clock,
    checkpoint: () => engine.checkpoint,
  };

  /** Where the durable starts, at every (re)start; the engine's state is re-read after the first. */
  function startSeq(): Promise<number> {
    if (starts++ > 0) engine.reload();
    policy.reload();
    return startPosition(position);
  }

  function onBatch(messages: readonly RawEvent[], pending: number): BatchDisposition {
    const started = performance.now();
    let result: BatchResult;
    try {
      result = engine.applyBatch(messages);
    } catch (e) {
      // Not acked: the consumer stops, and starts again from the checkpoint after the backoff.
      retryIn(commitFailures.failed(e, engine.checkpoint));
      return { ackThrough: engine.checkpoint, stop: true };
    }
    commitFailures.committed();
    const ms = performance.now() - started;
    reporter.batch(messages.length, ms, pending, engine.checkpoint);
    o.metrics?.batchCommitted(name, o.kind, result.applied, result.deadLetters.length, ms / 1000);
    if (result.deadLetters.length > 0) o.kickDeadLetters();
    o.afterBatch?.();
    o.waiters.settle();
    if (!result.stoppedAt) return { ackThrough: result.checkpoint };
    stoppedAt(result.stoppedAt);
    return { ackThrough: result.checkpoint, stop: true };
  }

  function stoppedAt(stop: StoppedAt) {
    if (!stop.retry) return announceStop(o, stop);
    const retry = policy.retryDelay(stop.seq);
    announceStop(o, stop, retry);
    retryIn(retry.delayMs);
  }

  /** Starts a consumer again after `delayMs`, unless the worker was stopped, paused or resumed meanwhile. */
  function retryIn(delayMs: number): void {
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      // The consumer that stopped may still be closing: start after it is done.
      void (consumer?.done ?? Promise.resolve()).then(() => {
        if (closed || halted || consumer) return;
        start().catch((e) => {
          // Stopped meanwhile: no retry to hold a drain open.
          if (closed || halted) return;
          // A restart that cannot begin (NATS away) is tried again, never left as a rejection.
          log.error({ err: e, retryInMs: COMMIT_RETRY_LONGEST_MS }, 'consumer could not restart; retrying');
          reporter.set('restarting', `cannot restart the consumer: ${(e as Error).message}`);
          retryIn(COMMIT_RETRY_LONGEST_MS);
        });
      });
    }, delayMs);
  }

  async function start(): Promise<void> {
    halted = false;
    const c = streamConsumerFor(
      o,
      startSeq,
      onBatch,
      () => retryTimer !== undefined,
      () => commitFailures.detail,
    );
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
    o.started?.();
  }

  return {
    get consuming() {
      return consumer !== undefined;
    },
    get closed() {
      return closed;
    },
    start,
    async stop(stopOptions) {
      if (stopOptions?.forGood) closed = true;
      halted = true;
      const c = consumer;
      consumer = undefined;
      // The consumer commits its last batch first, which may set a retry timer: clear it after.
      await c?.stop();
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      commitFailures.reset();
    },
    rereadCheckpoint() {
      starts = Math.max(starts, 1);
    },
  };
}
