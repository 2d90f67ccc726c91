/**
 * createRuntime: everything `prosa run` does, as an object a program or a test can hold: connect
 * (or start the embedded server), apply the streams, open SQLite, run every projection, report
 * status, and drain on request.
 */
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { type ProsaConfigInput, type ResolvedConfig, resolveConfig } from './config.js';
import { connectNats } from './connection.js';
import { type EmbeddedServer, startEmbeddedServer } from './embeddedServer.js';
import { ProsaError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import type { ProsaEvent } from './projection.js';
import { createProjectionWorker } from './projectionWorker.js';
import type { SagaDefinition } from './saga.js';
import { createSagaWorker } from './sagaWorker.js';
import { openDatabase, type SqliteDatabase } from './sqliteStore.js';
import { collectStatus, type LiveWorkerInfo, lastSeqOnSubjects, type RuntimeStatus } from './status.js';
import { applyStreams } from './streams.js';
import type { Worker } from './worker.js';

/** Where time comes from; tests inject a virtual one. */
export interface Clock {
  now(): number;
}

export interface RuntimeOptions {
  /** @default a pino logger at the config's level */
  log?: Logger;
  /** @default the system clock */
  clock?: Clock;
}

export interface Runtime {
  readonly config: ResolvedConfig;
  /** The NATS URL in use (after start). */
  readonly url: string | undefined;
  /** Connects, applies streams, opens SQLite and starts every worker. */
  start(): Promise<void>;
  /** Finishes each worker's batch, commits, acks, then closes everything. Idempotent. */
  drain(): Promise<void>;
  /** Same as drain. */
  close(): Promise<void>;
  status(): Promise<RuntimeStatus>;
  /**
   * Resolves once every projection's checkpoint has reached the last sequence its stream held on its
   * subjects when this was called; rejects naming the laggards after `timeoutMs`.
   */
  caughtUp(options?: { timeoutMs?: number }): Promise<void>;
}

export function createRuntime(
  config: ResolvedConfig | ProsaConfigInput,
  options: RuntimeOptions = {},
): Runtime {
  const resolved: ResolvedConfig =
    'sqlitePath' in config ? (config as ResolvedConfig) : resolveConfig(config);
  const log = options.log ?? createLogger({ level: resolved.logLevel });
  const clock = options.clock ?? { now: Date.now };
  let embedded: EmbeddedServer | undefined;
  let nc: NatsConnection | undefined;
  let jsm: JetStreamManager | undefined;
  let js: JetStreamClient | undefined;
  let db: SqliteDatabase | undefined;
  let url: string | undefined;
  let workers: Worker[] = [];
  let draining: Promise<void> | undefined;

  async function drain(): Promise<void> {
    draining ??= (async () => {
      await Promise.allSettled(workers.map((w) => w.stop()));
      try {
        await nc?.drain();
      } catch {
        await nc?.close().catch(() => {});
      }
      db?.close();
      await embedded?.stop();
      log.info('stopped');
    })();
    return draining;
  }

  return {
    config: resolved,
    get url() {
      return url;
    },
    async start() {
      try {
        let target = resolved.nats.url;
        if (!target) {
          embedded = await startEmbeddedServer({ dataDir: resolved.dataDir, log });
          target = embedded.url;
          log.info(
            { url: target, dataDir: resolved.dataDir },
            'embedded nats-server started (set NATS_URL to use your own)',
          );
        }
        url = target;
        nc = await connectNats({ ...resolved.nats, url: target }, log);
        jsm = await jetstreamManager(nc);
        js = jetstream(nc);
        await applyStreams(jsm, resolved.streams, log);
        const database = openDatabase(resolved.sqlitePath);
        db = database;
        const now = () => clock.now();
        const shared = { db: database, js: js as JetStreamClient, jsm: jsm as JetStreamManager, log, now };
        const optionsOf = (name: string) => resolved.workers[name] as ResolvedConfig['workers'][string];
        workers = [
          ...resolved.projections.map((definition) =>
            createProjectionWorker({ definition, options: optionsOf(definition.name), ...shared }),
          ),
          ...resolved.sagas.map((definition) =>
            createSagaWorker({
              definition: definition as SagaDefinition<ProsaEvent, string, string>,
              options: optionsOf(definition.name),
              ...shared,
            }),
          ),
        ];
        await Promise.all(workers.map((w) => w.start()));
        log.info(
          {
            projections: resolved.projections.map((p) => p.name),
            sagas: resolved.sagas.map((s) => s.name),
            sqlite: resolved.sqlitePath,
          },
          'running',
        );
      } catch (e) {
        await drain();
        throw e;
      }
    },
    drain,
    close: drain,
    async status() {
      const live = new Map<string, LiveWorkerInfo>();
      for (const w of workers) {
        const info: LiveWorkerInfo = {
          checkpoint: w.checkpoint,
          liveActors: w.liveActors,
          state: w.state,
          eventsPerSecond: w.eventsPerSecond,
        };
        if (w.detail) info.detail = w.detail;
        live.set(w.name, info);
      }
      return collectStatus({ config: resolved, db, jsm, live, now: () => clock.now() });
    },
    async caughtUp({ timeoutMs = 60_000 } = {}) {
      if (!jsm)
        throw new ProsaError(
          'PROSA_NATS_UNREACHABLE',
          'caughtUp() needs a started runtime: call start() first',
        );
      const m = jsm;
      const targets = await Promise.all(
        workers.map(async (w) => [w, await lastSeqOnSubjects(m, w.stream, w.subjects)] as const),
      );
      const results = await Promise.allSettled(targets.map(([w, seq]) => w.waitFor(seq, timeoutMs)));
      const laggards = results.flatMap((r, i) => {
        const [w, seq] = targets[i] as (typeof targets)[number];
        return r.status === 'rejected' ? [`${w.name} (at ${w.checkpoint} of ${seq})`] : [];
      });
      if (laggards.length > 0) {
        throw new ProsaError('PROSA_TIMEOUT', `not caught up after ${timeoutMs} ms: ${laggards.join(', ')}`);
      }
    },
  };
}
