/**
 * A running projection: its engine (src/projectionEngine.ts) fed by its durable consumer
 * (src/consumer.ts), its dead letter dispatcher, progress logs and the status it reports.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { WorkerOptions } from './config.js';
import { createStreamConsumer, type StreamConsumer } from './consumer.js';
import { createDeadLetterDispatcher } from './deadLetters.js';
import type { Logger } from './logger.js';
import type { OutboxDispatcher } from './outbox.js';
import type { ProjectionDefinition, ProsaEvent } from './projection.js';
import { createProjectionEngine, type ProjectionEngine } from './projectionEngine.js';
import type { SqliteDatabase } from './sqliteStore.js';
import { type WorkerState, createWorkerReporter, type WorkerReporter } from './workerStatus.js';

export interface ProjectionWorker {
  readonly name: string;
  readonly kind: 'projection';
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
  /** Resolves once the checkpoint has reached `seq` (or the worker stopped: then rejects). */
  waitFor(seq: number, timeoutMs: number): Promise<void>;
}

export interface ProjectionWorkerOptions {
  definition: ProjectionDefinition<ProsaEvent, string>;
  options: WorkerOptions;
  db: SqliteDatabase;
  js: JetStreamClient;
  jsm: JetStreamManager;
  log: Logger;
  now?: () => number;
}

export function createProjectionWorker(o: ProjectionWorkerOptions): ProjectionWorker {
  const { definition, options, db, js, jsm } = o;
  const name = definition.name;
  const stream = definition.source.stream;
  const log = o.log.child({ projection: name });
  const now = o.now ?? Date.now;
  const engine: ProjectionEngine = createProjectionEngine(definition, db, {
    maxActors: options.maxActors,
    onError: options.onError,
    stream,
    now,
  });
  const consumerName = options.consumer ?? name;
  const dlq: OutboxDispatcher = createDeadLetterDispatcher({ db, js, worker: name, consumer: consumerName, log });
  const reporter: WorkerReporter = createWorkerReporter({ db, worker: name, kind: 'projection', log, now, liveActors: () => engine.liveActors });
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

  async function startSeq(): Promise<number> {
    if (starts++ > 0) engine.reload();
    const info = await jsm.streams.info(stream);
    const first = info.state.first_seq;
    const checkpoint = engine.checkpoint;
    if (checkpoint > 0 && checkpoint + 1 < first) {
      db.prepare('INSERT OR IGNORE INTO prosa_gaps (worker, from_seq, to_seq, detected_at) VALUES (?, ?, ?, ?)').run(
        name,
        checkpoint + 1,
        first - 1,
        new Date(now()).toISOString(),
      );
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
    kind: 'projection',
    stream,
    consumer: consumerName,
    subjects: definition.source.subjects,
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
      const subjects = definition.source.subjects;
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
          reporter.batch(result.applied + result.skipped + result.deadLetters.length, performance.now() - started, last?.info.pending ?? 0, engine.checkpoint);
          if (result.deadLetters.length > 0) void dlq.kick();
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
    },
    async stop() {
      await consumer?.stop();
      await Promise.race([dlq.kick(), new Promise((r) => setTimeout(r, 2_000))]);
      dlq.close();
      reporter.stop();
      engine.close();
      for (const w of waiters) w.reject(new Error(`projection ${name} stopped at ${engine.checkpoint} before reaching ${w.seq}`));
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
          reject(new Error(`projection ${name} at ${engine.checkpoint}, not ${seq}, after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
  };
}

class GapStop extends Error {
  constructor(from: number, to: number) {
    super(`gap: messages ${from}..${to} were dropped by the stream before they were applied (onGap: stop)`);
  }
}
