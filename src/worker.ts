/**
 * A running projection or saga: its engine fed by its durable consumer (src/consumer.ts), its
 * dead letter dispatcher, gap detection at every (re)start, progress logs and status. What differs
 * between the two kinds (outbox, timers) comes in through `hooks`.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { WorkerOptions } from './config.js';
import { createStreamConsumer, type StreamConsumer } from './consumer.js';
import { createDeadLetterDispatcher } from './deadLetters.js';
import type { Logger } from './logger.js';
import type { ProjectionSource, RawEvent } from './projection.js';
import type { BatchResult } from './projectionEngine.js';
import type { SqliteDatabase } from './sqliteStore.js';
import { createWorkerReporter, type WorkerState } from './workerStatus.js';

/** What the worker needs of an engine (projection or saga). */
export interface BatchEngine {
  readonly checkpoint: number;
  readonly liveActors: number;
  applyBatch(messages: readonly RawEvent[]): BatchResult;
  reload(): void;
  close(): void;
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
  /** Resolves once the checkpoint has reached `seq`; rejects after `timeoutMs` or if the worker stops. */
  waitFor(seq: number, timeoutMs: number): Promise<void>;
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
  engine: BatchEngine;
  options: WorkerOptions;
  db: SqliteDatabase;
  js: JetStreamClient;
  jsm: JetStreamManager;
  log: Logger;
  now: () => number;
  hooks?: WorkerHooks;
}

class GapStop extends Error {
  constructor(from: number, to: number) {
    super(`gap: messages ${from}..${to} were dropped by the stream before they were applied (onGap: stop)`);
  }
}

export function createWorker(o: CreateWorkerOptions): Worker {
  const { name, engine, options, db, js, jsm, now, hooks = {} } = o;
  const stream = o.source.stream;
  const log = o.log.child({ [o.kind]: name });
  const consumerName = options.consumer ?? name;
  const dlq = createDeadLetterDispatcher({ db, js, worker: name, consumer: consumerName, log });
  const reporter = createWorkerReporter({
    db,
    worker: name,
    kind: o.kind,
    log,
    now,
    liveActors: () => engine.liveActors,
  });
  const recordGap = db.prepare(
    'INSERT OR IGNORE INTO prosa_gaps (worker, from_seq, to_seq, detected_at) VALUES (?, ?, ?, ?)',
  );
  const waiters = new Set<{ seq: number; resolve: () => void; reject: (e: Error) => void }>();
  let consumer: StreamConsumer | undefined;
  let starts = 0;

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
    const first = (await jsm.streams.info(stream)).state.first_seq;
    const checkpoint = engine.checkpoint;
    if (checkpoint > 0 && checkpoint + 1 < first) {
      recordGap.run(name, checkpoint + 1, first - 1, new Date(now()).toISOString());
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

  return {
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
      const subjects = o.source.subjects;
      consumer = createStreamConsumer({
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
        onState: (state, detail) => reporter.set(state, detail),
        onBatch(messages) {
          const started = performance.now();
          const result = engine.applyBatch(messages);
          const last = messages[messages.length - 1];
          reporter.batch(
            messages.length,
            performance.now() - started,
            last?.info.pending ?? 0,
            engine.checkpoint,
          );
          if (result.deadLetters.length > 0) void dlq.kick();
          hooks.afterBatch?.();
          settleWaiters();
          if (result.stoppedAt) {
            const { seq, subject, reason } = result.stoppedAt;
            log.error({ seq, subject, reason }, 'bad event: stopping at it as configured (onError: stop)');
            reporter.set('stopped', `stopped at bad event ${seq}: ${reason}`);
            return { ackThrough: result.checkpoint, stop: true };
          }
          return { ackThrough: result.checkpoint };
        },
      });
      try {
        await consumer.start();
      } catch (e) {
        if (e instanceof GapStop) {
          reporter.set('stopped', e.message);
          return;
        }
        throw e;
      }
      hooks.started?.();
    },
    async stop() {
      await consumer?.stop();
      await hooks.stopping?.();
      await Promise.race([dlq.kick(), new Promise((r) => setTimeout(r, 2_000))]);
      dlq.close();
      reporter.stop();
      engine.close();
      for (const w of waiters)
        w.reject(new Error(`${o.kind} ${name} stopped at ${engine.checkpoint} before reaching ${w.seq}`));
      waiters.clear();
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
}
