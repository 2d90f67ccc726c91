/**
 * createRuntime: everything `prosa run` does, as an object a program or a test can hold: connect
 * (or start the embedded server), apply the streams, open SQLite, run every projection and saga,
 * answer control commands (pause, resume, retry), rebuild a projection whose version changed
 * (blue/green), report status, and drain on request.
 */
import type { Subscription } from '@nats-io/transport-node';
import { type ProsaConfigInput, type ResolvedConfig, resolveConfig, workersToRun } from '../config/config.js';
import { defaults } from '../defaults.js';
import type { ProjectionDefinition, ProsaEvent } from '../define/projection.js';
import type { SagaDefinition } from '../define/saga.js';
import { ProsaError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { type ControlSender, NOT_HERE, sendControl, serveControl } from '../nats/control.js';
import { type LeaseStore, openLeaseStore } from '../nats/leaseStore.js';
import { applyStreams } from '../nats/streams.js';
import { openTimerJournal, type TimerJournal } from '../nats/timerJournal.js';
import type { AdminContext } from '../ops/admin.js';
import { collectStatus, type LiveWorkerInfo, type RuntimeStatus } from '../ops/status.js';
import type { ConsoleOptions } from '../serve/console/createConsole.js';
import { type Health, type HttpServer, startHttpServer } from '../serve/httpServer.js';
import { createMetrics, type Metrics } from '../serve/metrics.js';
import { readCheckpoint } from '../store/checkpoints.js';
import { openDatabase, type SqliteDatabase } from '../store/database.js';
import { claimWorkers, releaseWorkers, type WorkerState } from '../store/workers.js';
import { type Clock, systemClock } from '../time/clock.js';
import { waitCaughtUp } from './caughtUp.js';
import { createControlHandler } from './controlHandler.js';
import { limitHeapGrowth } from './heapGrowth.js';
import { type NatsLink, type OpenedNats, openNats } from './natsLink.js';
import { createProjectionWorker } from './projectionWorker.js';
import { type RebuildProgress, type RebuildResult, rebuildProjection } from './rebuild.js';
import { createSagaWorker, type SagaWorker } from './sagaWorker.js';
import { createVersionRebuilds, type VersionRebuilds } from './versionRebuilds.js';
import type { Worker } from './worker.js';

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
  /**
   * Connects, applies streams, opens SQLite and starts every worker. A configured server that is
   * down is waited for (`nats.waitAtStart`); a drain meanwhile ends the wait and start resolves.
   */
  start(): Promise<void>;
  /**
   * Finishes each worker's batch, commits, acks, then closes everything. Idempotent. During a
   * start it ends any wait for NATS and lets the start finish first.
   */
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

/** What the runtime has once started: the workers' shared handles. */
interface Started {
  readonly link: NatsLink;
  readonly db: SqliteDatabase;
}

type RebuildRequest = { onProgress?: (p: RebuildProgress) => void; reason?: string };

class RuntimeImpl implements Runtime {
  readonly config: ResolvedConfig;
  readonly metrics: Metrics;
  http: HttpServer | undefined;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly opened: OpenedNats = {};
  private db: SqliteDatabase | undefined;
  private control: Subscription | undefined;
  private leases: LeaseStore | undefined;
  private firings: TimerJournal | undefined;
  private readonly workers = new Map<string, Worker>();
  private readonly sagas = new Map<string, SagaWorker>();
  private readonly versionRebuilds: VersionRebuilds;
  private starting: Promise<void> | undefined;
  private draining: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** What `prosa pause|resume|dlq retry|dlq skip` from another process end in; the console calls it directly. */
  private readonly controlHandler = createControlHandler({
    workerNamed: (n) => this.workerNamed(n),
    find: (n) => this.workers.get(n),
    saga: (n) => this.sagas.get(n),
  });
  /** Ends a start's wait for NATS when the runtime is drained meanwhile. */
  private readonly stopWaiting = new AbortController();
  private running = false;

  constructor(config: ResolvedConfig, options: RuntimeOptions) {
    this.config = config;
    this.log = options.log ?? createLogger({ level: config.logLevel });
    this.clock = options.clock ?? systemClock;
    const clock = this.clock;
    this.metrics = options.metrics ?? createMetrics({ clock });
    this.versionRebuilds = createVersionRebuilds({
      rebuild: (name, o) => this.rebuild(name, o),
      swappedIn: async (definition) => {
        const w = this.projectionWorker(definition);
        this.workers.set(definition.name, w);
        await w.start();
      },
      stopping: () => this.draining !== undefined || this.closing !== undefined,
      log: this.log,
      clock,
    });
    // The methods work unbound too (`process.once('SIGTERM', runtime.drain)`), as the plain object did.
    for (const m of [
      'start',
      'drain',
      'close',
      'status',
      'caughtUp',
      'rebuild',
      'rebuilds',
      'pause',
      'resume',
      'health',
    ] as const)
      (this as Record<string, unknown>)[m] = (this[m] as (...a: unknown[]) => unknown).bind(this);
  }

  get url(): string | undefined {
    return this.opened.url;
  }

  private configuredNames(): string[] {
    return [...this.config.projections, ...this.config.sagas].map((d) => d.name);
  }

  private workerNamed(name: string): Worker {
    const w = this.workers.get(name);
    if (!w) {
      throw new ProsaError(
        'PROSA_NOT_FOUND',
        `no projection or saga named "${name}" runs here (configured: ${this.configuredNames().join(', ') || 'none'})`,
      );
    }
    return w;
  }

  private started(): Started {
    if (!this.db || !this.opened.link)
      throw new ProsaError('PROSA_NATS_UNREACHABLE', 'the runtime is not started: call start() first');
    return { link: this.opened.link, db: this.db };
  }

  /** What every worker is built with. */
  private workerContext(name: string) {
    const { link, db } = this.started();
    const options = this.config.workers[name] as ResolvedConfig['workers'][string];
    return {
      options,
      db,
      js: link.js,
      jsm: link.jsm,
      log: this.log,
      clock: this.clock,
      metrics: this.metrics,
    };
  }

  private projectionWorker(definition: ProjectionDefinition<ProsaEvent, string>): Worker {
    return createProjectionWorker({ definition, ...this.workerContext(definition.name) });
  }

  private sagaWorker(definition: SagaDefinition<ProsaEvent, string, string>): SagaWorker {
    const w = createSagaWorker({
      definition,
      ...this.workerContext(definition.name),
      ...(this.leases ? { leases: this.leases } : {}),
      ...(this.firings ? { firings: this.firings } : {}),
    });
    this.sagas.set(definition.name, w);
    return w;
  }

  /** Every configured worker, or a version rebuild for a projection whose model is of another version. */
  private createWorkers(db: SqliteDatabase): void {
    claimWorkers(db, this.configuredNames(), this.clock);
    for (const definition of this.config.projections) {
      const stored = readCheckpoint(db, definition.name);
      if (stored && stored.version !== (definition.version ?? 1))
        this.versionRebuilds.start(definition, stored.version);
      else this.workers.set(definition.name, this.projectionWorker(definition));
    }
    for (const definition of this.config.sagas) {
      const saga = definition as SagaDefinition<ProsaEvent, string, string>;
      this.workers.set(saga.name, this.sagaWorker(saga));
    }
  }

  start(): Promise<void> {
    this.starting ??= this.startOnce();
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    const { config, log } = this;
    limitHeapGrowth(config.heapGrowthPercent);
    try {
      // First, so a port in use fails the start before anything else is started.
      if (config.http.enabled) {
        this.http = await startHttpServer({
          host: config.http.host,
          port: config.http.port,
          metrics: this.metrics,
          status: () => this.status(),
          health: () => this.health(),
          log,
          ...(config.http.console.enabled ? { console: this.consoleOptions() } : {}),
        });
      }
      const link = await openNats(config, log, this.opened, this.stopWaiting.signal);
      if (!link) return; // drained while waiting for NATS
      await applyStreams(link.jsm, config.streams, log);
      if (config.sagas.length > 0) {
        // Replicated like the commands they guard.
        const replicas = config.streams.COMMANDS?.replicas ?? 1;
        this.leases = await openLeaseStore(link.js, defaults.leaseBucket, false, replicas);
        const { bucket, maxAgeMs } = defaults.timerJournal;
        this.firings = await openTimerJournal(link.js, bucket, maxAgeMs, replicas);
      }
      this.db = openDatabase(config.sqlitePath);
      this.createWorkers(this.db);
      this.control = serveControl(link.nc, () => this.controlTargets(), this.controlHandler, log);
      await Promise.all([...this.workers.values()].map((w) => w.start()));
      this.running = true;
      log.info(
        {
          projections: config.projections.map((p) => p.name),
          sagas: config.sagas.map((s) => s.name),
          sqlite: config.sqlitePath,
        },
        'running',
      );
    } catch (e) {
      await this.closeAll();
      throw e;
    }
  }

  /** The workers this process answers control commands for. */
  private controlTargets(): string[] {
    return [...this.workers.keys(), ...this.versionRebuilds.progress.keys()];
  }

  /**
   * The control plane without the round trip over NATS: a worker of this process gets the very
   * call a control request would make (and the same answer, as JSON); another's goes over NATS.
   */
  private readonly localControl: ControlSender = async (worker, command, body = {}, timeoutMs) => {
    if (!this.controlTargets().includes(worker)) {
      const link = this.opened.link;
      return link ? sendControl(link.nc, worker, command, body, timeoutMs) : undefined;
    }
    try {
      const result: unknown = await this.controlHandler(worker, command, body);
      // Not for this process (a handover of a lease another process holds): that one answers.
      if (result === NOT_HERE) {
        const link = this.opened.link;
        return link ? sendControl(link.nc, worker, command, body, timeoutMs, true) : undefined;
      }
      return { ok: true, result: result === undefined ? undefined : JSON.parse(JSON.stringify(result)) };
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
  };

  /** What the CLI's admin commands get, for this process: its SQLite, its NATS, its workers. */
  private adminContext(): AdminContext {
    const { link, db } = this.started();
    const { config, log, clock } = this;
    return { config, db, nc: link.nc, js: link.js, jsm: link.jsm, log, clock, control: this.localControl };
  }

  private consoleOptions(): ConsoleOptions {
    const page = this.config.http.console;
    return {
      backend: { status: () => this.status(), admin: () => this.adminContext() },
      rebuild: (name, onProgress) => this.rebuild(name, { onProgress, reason: 'requested from the console' }),
      token: page.token,
      protectReads: page.protectReads,
    };
  }

  drain(): Promise<void> {
    this.draining ??= (async () => {
      this.stopWaiting.abort();
      // A start under way finishes (or stops waiting for NATS) before what it opened is closed.
      await this.starting?.catch(() => {});
      await this.closeAll();
    })();
    return this.draining;
  }

  /** Closes whatever was started, in order. Idempotent. */
  private closeAll(): Promise<void> {
    this.closing ??= (async () => {
      const { opened, db } = this;
      this.control?.unsubscribe();
      await Promise.allSettled([...this.workers.values()].map((w) => w.stop()));
      await Promise.allSettled(this.versionRebuilds.tasks);
      if (db?.open) this.releaseClaims(db);
      if (opened.link) await opened.link.close();
      // Metrics stay scrapeable while the workers drain; /healthz has said 503 'draining' since the start.
      await this.http?.close();
      db?.close();
      if (!opened.link) await opened.embedded?.stop();
      this.log.info('stopped');
    })();
    return this.closing;
  }

  /** A failed write (a full disk) must not keep the drain from closing the rest. */
  private releaseClaims(db: SqliteDatabase): void {
    try {
      releaseWorkers(db, this.configuredNames());
    } catch (e) {
      this.log.warn({ err: e }, "could not release the workers' claims (they lapse when this process exits)");
    }
  }

  close(): Promise<void> {
    return this.drain();
  }

  status(): Promise<RuntimeStatus> {
    const { db, opened } = this;
    return collectStatus({
      config: this.config,
      db,
      jsm: opened.link?.jsm,
      live: this.liveWorkers(),
      clock: this.clock,
    });
  }

  /** What this process knows of its workers beyond SQLite: live counts, and rebuilds under way. */
  private liveWorkers(): Map<string, LiveWorkerInfo> {
    const live = new Map<string, LiveWorkerInfo>();
    for (const w of this.workers.values()) {
      const info: LiveWorkerInfo = {
        checkpoint: w.checkpoint,
        liveActors: w.liveActors,
        state: w.state,
        eventsPerSecond: w.eventsPerSecond,
      };
      if (w.detail) info.detail = w.detail;
      const lease = this.sagas.get(w.name)?.lease;
      if (lease) {
        const h = lease.holder;
        info.lease = {
          active: h ? { host: h.host, pid: h.pid } : null,
          role: lease.role,
          takeovers: lease.takeovers,
        };
      }
      live.set(w.name, info);
    }
    for (const [name, p] of this.versionRebuilds.progress) {
      live.set(name, {
        checkpoint: (this.db && readCheckpoint(this.db, name)?.seq) || 0,
        liveActors: 0,
        state: 'rebuilding',
        eventsPerSecond: p?.eventsPerSecond ?? 0,
        detail: p ? `rebuilding: ${p.phase}, ${p.checkpoint} of ${p.target}` : 'rebuilding: starting',
      });
    }
    return live;
  }

  caughtUp({ timeoutMs = 60_000 }: { timeoutMs?: number } = {}): Promise<void> {
    return waitCaughtUp({
      jsm: this.started().link.jsm,
      workers: [...this.workers.values()],
      rebuilds: this.versionRebuilds.tasks,
      timeoutMs,
      clock: this.clock,
    });
  }

  rebuild(name: string, o: RebuildRequest = {}): Promise<RebuildResult> {
    const { link, db } = this.started();
    const definition = this.config.projections.find((p) => p.name === name);
    if (!definition) {
      const configured = this.config.projections.map((p) => p.name).join(', ') || 'none';
      throw new ProsaError('PROSA_NOT_FOUND', `no projection named "${name}" (configured: ${configured})`);
    }
    const live = this.workers.get(name);
    return rebuildProjection({
      definition,
      db,
      sqlitePath: this.config.sqlitePath,
      js: link.js,
      jsm: link.jsm,
      log: this.log,
      clock: this.clock,
      reason: o.reason ?? 'requested',
      deadLetters: this.config.workers[name]?.deadLetters,
      consumer: this.config.workers[name]?.consumer ?? name,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(live ? holdStill(live) : {}),
    });
  }

  async rebuilds(): Promise<void> {
    await Promise.allSettled(this.versionRebuilds.tasks);
  }

  pause(name: string, reason = 'paused by an operator'): Promise<void> {
    return this.workerNamed(name).pause({ reason });
  }

  resume(name: string): Promise<void> {
    return this.workerNamed(name).resume();
  }

  health(): Health {
    if (this.draining || this.closing) return { ok: false, reason: 'draining' };
    const { waitingFor } = this.opened;
    if (waitingFor) return { ok: false, reason: `waiting for NATS at ${waitingFor}` };
    if (!this.running || !this.opened.link) return { ok: false, reason: 'starting' };
    const nats = this.opened.link.health();
    if (!nats.ok) return nats;
    const reasons = [...this.workers.values()]
      .filter((w) => !HEALTHY_STATES.has(w.state))
      .map((w) => `${w.kind} ${w.name} is ${w.state}${w.detail ? `: ${w.detail}` : ''}`);
    return reasons.length === 0 ? { ok: true } : { ok: false, reason: reasons.join('; ') };
  }
}

/** Pauses a live worker for a rebuild's swap and resumes it after; one an operator paused stays paused. */
function holdStill(live: Worker): { pauseLive: () => Promise<void>; resumeLive: () => Promise<void> } {
  let pausedHere = false;
  return {
    pauseLive: async () => {
      if (live.state === 'paused') return;
      await live.pause({ reason: 'rebuild: swapping in the new model', byPid: process.pid });
      pausedHere = true;
    },
    resumeLive: async () => {
      if (pausedHere) await live.resume();
    },
  };
}

export function createRuntime(
  config: ResolvedConfig | ProsaConfigInput,
  options: RuntimeOptions = {},
): Runtime {
  const resolved: ResolvedConfig =
    'sqlitePath' in config ? (config as ResolvedConfig) : resolveConfig(config);
  // Only the workers this process runs (`only`); a worker of another process is asked over NATS.
  return new RuntimeImpl(workersToRun(resolved), options);
}
