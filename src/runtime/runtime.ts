/**
 * createRuntime: everything `prosa run` does, as an object a program or a test can hold: connect
 * (or start the embedded server), apply the streams, open SQLite, run every projection and saga,
 * answer control commands (pause, resume, rebuild), rebuild a projection whose version changed
 * (blue/green), report status, and drain on request.
 */
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { type ProsaConfigInput, type ResolvedConfig, resolveConfig } from '../config/config.js';
import type { ProjectionDefinition, ProsaEvent } from '../define/projection.js';
import type { SagaDefinition } from '../define/saga.js';
import { ProsaError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { connectNats } from '../nats/connection.js';
import { decodeMessages, serveControl } from '../nats/control.js';
import { type EmbeddedServer, startEmbeddedServer } from '../nats/embeddedServer.js';
import { applyStreams } from '../nats/streams.js';
import { collectStatus, type LiveWorkerInfo, lastSeqOnSubjects, type RuntimeStatus } from '../ops/status.js';
import { type Health, type HttpServer, startHttpServer } from '../serve/httpServer.js';
import { createMetrics, type Metrics } from '../serve/metrics.js';
import { readCheckpoint } from '../store/checkpoints.js';
import { openDatabase, type SqliteDatabase } from '../store/database.js';
import { claimWorkers, releaseWorkers, type WorkerState } from '../store/workers.js';
import { createProjectionWorker } from './projectionWorker.js';
import { type RebuildProgress, type RebuildResult, rebuildProjection } from './rebuild.js';
import { createSagaWorker } from './sagaWorker.js';
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
  /** Where the workers count batches and `/metrics` reads from. @default createMetrics() */
  metrics?: Metrics;
}

/**
 * Worker states in which the runtime counts as healthy. `paused` and `rebuilding` are an operator's
 * or a deploy's choice, not a fault: a 503 would only make an orchestrator restart a process that
 * was told to wait.
 */
const HEALTHY_STATES: ReadonlySet<WorkerState> = new Set(['running', 'catching up', 'paused', 'rebuilding']);

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
   * Resolves once every projection's and saga's checkpoint has reached the last sequence its stream
   * held on its subjects when this was called; rejects naming the laggards after `timeoutMs`.
   */
  caughtUp(options?: { timeoutMs?: number }): Promise<void>;
  /** Rebuilds a projection beside the live model and swaps it in (see src/runtime/rebuild.ts). */
  rebuild(
    projection: string,
    options?: { onProgress?: (p: RebuildProgress) => void; reason?: string },
  ): Promise<RebuildResult>;
  /** Resolves when the version-bump rebuilds started by `start()` have swapped in. */
  rebuilds(): Promise<void>;
  pause(worker: string, reason?: string): Promise<void>;
  resume(worker: string): Promise<void>;
  /**
   * Ok when NATS is connected and every worker consumes (or was paused, or is rebuilding);
   * otherwise the reason. `/healthz` answers from it.
   */
  health(): Health;
  /** The metrics the workers feed; `/metrics` serves them. */
  readonly metrics: Metrics;
  /** The `/healthz` and `/metrics` server once started (undefined when `http.enabled` is false). */
  readonly http: HttpServer | undefined;
}

export function createRuntime(
  config: ResolvedConfig | ProsaConfigInput,
  options: RuntimeOptions = {},
): Runtime {
  const resolved: ResolvedConfig =
    'sqlitePath' in config ? (config as ResolvedConfig) : resolveConfig(config);
  const log = options.log ?? createLogger({ level: resolved.logLevel });
  const clock = options.clock ?? { now: Date.now };
  const now = () => clock.now();
  let embedded: EmbeddedServer | undefined;
  let nc: NatsConnection | undefined;
  let jsm: JetStreamManager | undefined;
  let js: JetStreamClient | undefined;
  let db: SqliteDatabase | undefined;
  let url: string | undefined;
  let control: Subscription | undefined;
  const workers = new Map<string, Worker>();
  /** Projections being rebuilt before their worker starts (version changed), with their progress. */
  const rebuilding = new Map<string, RebuildProgress | undefined>();
  const rebuildTasks: Promise<unknown>[] = [];
  let draining: Promise<void> | undefined;
  let stopping = false;
  const metrics = options.metrics ?? createMetrics({ now });
  let http: HttpServer | undefined;
  let running = false;
  /** NATS connection state, from the connection's status events (for health). */
  let nats: Health = { ok: false, reason: 'not connected to NATS yet' };

  const workerNamed = (name: string): Worker => {
    const w = workers.get(name);
    if (!w) {
      const known = [...resolved.projections, ...resolved.sagas].map((d) => d.name);
      throw new ProsaError(
        'PROSA_NOT_FOUND',
        `no projection or saga named "${name}" runs here (configured: ${known.join(', ') || 'none'})`,
      );
    }
    return w;
  };

  const started = () => {
    if (!db || !js || !jsm)
      throw new ProsaError('PROSA_NATS_UNREACHABLE', 'the runtime is not started: call start() first');
    return { db, js, jsm };
  };

  function projectionWorker(definition: ProjectionDefinition<ProsaEvent, string>): Worker {
    const s = started();
    return createProjectionWorker({
      definition,
      options: optionsOf(definition.name),
      ...s,
      log,
      now,
      metrics,
    });
  }
  const workerNames = () => [...resolved.projections, ...resolved.sagas].map((d) => d.name);
  const optionsOf = (name: string) => resolved.workers[name] as ResolvedConfig['workers'][string];

  async function rebuild(
    name: string,
    o: { onProgress?: (p: RebuildProgress) => void; reason?: string } = {},
  ): Promise<RebuildResult> {
    const s = started();
    const definition = resolved.projections.find((p) => p.name === name);
    if (!definition) {
      throw new ProsaError(
        'PROSA_NOT_FOUND',
        `no projection named "${name}" (configured: ${resolved.projections.map((p) => p.name).join(', ') || 'none'})`,
      );
    }
    const live = workers.get(name);
    return rebuildProjection({
      definition,
      db: s.db,
      sqlitePath: resolved.sqlitePath,
      js: s.js,
      jsm: s.jsm,
      log,
      now,
      reason: o.reason ?? 'requested',
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(live
        ? {
            pauseLive: () => live.pause({ reason: 'rebuild: swapping in the new model', byPid: process.pid }),
            resumeLive: () => live.resume(),
          }
        : {}),
    });
  }

  /** A projection whose definition version differs from the one its model was built with: blue/green. */
  function startVersionRebuild(definition: ProjectionDefinition<ProsaEvent, string>, from: number): void {
    const to = definition.version ?? 1;
    const reason = `version ${from} -> ${to}`;
    log.warn(
      { projection: definition.name, from, to },
      `projection ${definition.name} changed version (${reason}): rebuilding it beside the live model, which keeps serving reads until the new one is swapped in`,
    );
    rebuilding.set(definition.name, undefined);
    let lastLog = 0;
    const task = rebuild(definition.name, {
      reason,
      onProgress: (p) => {
        rebuilding.set(definition.name, p);
        if (now() - lastLog > 5_000) {
          lastLog = now();
          log.info({ projection: definition.name, ...p }, 'rebuild progress');
        }
      },
    }).then(
      async () => {
        rebuilding.delete(definition.name);
        if (stopping) return;
        const w = projectionWorker(definition);
        workers.set(definition.name, w);
        await w.start();
      },
      (e: unknown) => {
        rebuilding.delete(definition.name);
        log.error(
          { err: e, projection: definition.name },
          'version rebuild failed; the old model keeps serving, the projection is not running (restart to retry)',
        );
      },
    );
    rebuildTasks.push(task);
  }

  async function drain(): Promise<void> {
    stopping = true;
    draining ??= (async () => {
      control?.unsubscribe();
      await Promise.allSettled([...workers.values()].map((w) => w.stop()));
      await Promise.allSettled(rebuildTasks);
      if (db?.open) releaseWorkers(db, workerNames());
      try {
        await nc?.drain();
      } catch {
        await nc?.close().catch(() => {});
      }
      // Metrics stay scrapeable while the workers drain; /healthz has said 503 'draining' since the start.
      await http?.close();
      db?.close();
      await embedded?.stop();
      log.info('stopped');
    })();
    return draining;
  }

  const runtime: Runtime = {
    config: resolved,
    metrics,
    get http() {
      return http;
    },
    get url() {
      return url;
    },
    async start() {
      try {
        // First, so a port in use fails the start before anything else is started.
        if (resolved.http.enabled) {
          http = await startHttpServer({
            host: resolved.http.host,
            port: resolved.http.port,
            metrics,
            status: () => runtime.status(),
            health: () => runtime.health(),
            log,
          });
          log.info({ url: http.url }, 'serving /healthz and /metrics');
        }
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
        const connection = await connectNats({ ...resolved.nats, url: target }, log);
        nc = connection;
        nats = { ok: true };
        void (async () => {
          for await (const s of connection.status()) {
            if (s.type === 'disconnect')
              nats = { ok: false, reason: `NATS disconnected from ${s.server}; reconnecting` };
            else if (s.type === 'reconnect') nats = { ok: true };
            else if (s.type === 'close') nats = { ok: false, reason: 'NATS connection closed' };
          }
        })();
        jsm = await jetstreamManager(nc);
        js = jetstream(nc);
        await applyStreams(jsm, resolved.streams, log);
        db = openDatabase(resolved.sqlitePath);
        const database = db;
        claimWorkers(database, workerNames(), now);
        for (const definition of resolved.projections) {
          const stored = readCheckpoint(database, definition.name);
          if (stored && stored.version !== (definition.version ?? 1))
            startVersionRebuild(definition, stored.version);
          else workers.set(definition.name, projectionWorker(definition));
        }
        for (const definition of resolved.sagas) {
          const s = started();
          workers.set(
            definition.name,
            createSagaWorker({
              definition: definition as SagaDefinition<ProsaEvent, string, string>,
              options: optionsOf(definition.name),
              ...s,
              log,
              now,
              metrics,
            }),
          );
        }
        control = serveControl(
          nc,
          () => [...workers.keys(), ...rebuilding.keys()],
          async (name, command, body) => {
            switch (command) {
              case 'ping':
                return {
                  pid: process.pid,
                  checkpoint: workers.get(name)?.checkpoint ?? null,
                  state: workers.get(name)?.state ?? 'rebuilding',
                };
              case 'pause':
                await workerNamed(name).pause({
                  reason: String(body.reason ?? 'paused by an operator'),
                  ...(typeof body.byPid === 'number' ? { byPid: body.byPid } : {}),
                });
                return { checkpoint: workerNamed(name).checkpoint };
              case 'retry':
                return workerNamed(name).retry(decodeMessages(body));
              case 'resume':
                await workerNamed(name).resume();
                return { checkpoint: workerNamed(name).checkpoint };
              default:
                throw new Error(`unknown command ${command}`);
            }
          },
          log,
        );
        await Promise.all([...workers.values()].map((w) => w.start()));
        running = true;
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
      for (const w of workers.values()) {
        const info: LiveWorkerInfo = {
          checkpoint: w.checkpoint,
          liveActors: w.liveActors,
          state: w.state,
          eventsPerSecond: w.eventsPerSecond,
        };
        if (w.detail) info.detail = w.detail;
        live.set(w.name, info);
      }
      for (const [name, p] of rebuilding) {
        const info: LiveWorkerInfo = {
          checkpoint: (db && readCheckpoint(db, name)?.seq) || 0,
          liveActors: 0,
          state: 'rebuilding',
          eventsPerSecond: p?.eventsPerSecond ?? 0,
          detail: p ? `rebuilding: ${p.phase}, ${p.checkpoint} of ${p.target}` : 'rebuilding: starting',
        };
        live.set(name, info);
      }
      return collectStatus({ config: resolved, db, jsm, live, now });
    },
    async caughtUp({ timeoutMs = 60_000 } = {}) {
      const m = started().jsm;
      const deadline = Date.now() + timeoutMs;
      if (rebuildTasks.length > 0) {
        await Promise.race([Promise.allSettled(rebuildTasks), new Promise((r) => setTimeout(r, timeoutMs))]);
      }
      const list = [...workers.values()];
      const targets = await Promise.all(
        list.map(async (w) => [w, await lastSeqOnSubjects(m, w.stream, w.subjects)] as const),
      );
      const results = await Promise.allSettled(
        targets.map(([w, seq]) => w.waitFor(seq, Math.max(1, deadline - Date.now()))),
      );
      const laggards = results.flatMap((r, i) => {
        const [w, seq] = targets[i] as (typeof targets)[number];
        return r.status === 'rejected' ? [`${w.name} (at ${w.checkpoint} of ${seq})`] : [];
      });
      if (laggards.length > 0)
        throw new ProsaError('PROSA_TIMEOUT', `not caught up after ${timeoutMs} ms: ${laggards.join(', ')}`);
    },
    rebuild,
    async rebuilds() {
      await Promise.allSettled(rebuildTasks);
    },
    pause: (name, reason = 'paused by an operator') => workerNamed(name).pause({ reason }),
    resume: (name) => workerNamed(name).resume(),
    health() {
      if (draining) return { ok: false, reason: 'draining' };
      if (!running) return { ok: false, reason: 'starting' };
      if (!nats.ok) return nats;
      const reasons = [...workers.values()]
        .filter((w) => !HEALTHY_STATES.has(w.state))
        .map((w) => `${w.kind} ${w.name} is ${w.state}${w.detail ? `: ${w.detail}` : ''}`);
      return reasons.length === 0 ? { ok: true } : { ok: false, reason: reasons.join('; ') };
    },
  };
  return runtime;
}
