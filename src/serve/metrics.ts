/**
 * Prometheus metrics of a running prosa, with prom-client: per projection and saga (labels `worker`
 * and `kind`), what the workers did (counters and a commit latency histogram, fed by the worker after
 * each committed batch) and where they are (gauges, refreshed from `runtime.status()` when scraped),
 * plus prom-client's default process and Node.js metrics.
 *
 *   const metrics = createMetrics();
 *   metrics.batchCommitted('topology', 'projection', 250, 0, 0.004); // in the worker, after a commit
 *   metrics.observe(await runtime.status());                         // at scrape time
 *   await metrics.registry.metrics();
 *   // => # HELP prosa_events_applied_total Events applied ...
 *   //    prosa_events_applied_total{worker="topology",kind="projection"} 250 ...
 *
 * `src/serve/httpServer.ts` serves it at `/metrics`.
 */

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RuntimeStatus, WorkerStatus } from '../ops/status.js';
import { WORKER_STATES as STATES, type WorkerState } from '../store/workers.js';
import { type Clock, systemClock } from '../time/clock.js';

export type WorkerKind = 'projection' | 'saga';

export interface Metrics {
  /** The registry every metric is on; serve `registry.metrics()` with `registry.contentType`. */
  readonly registry: Registry;
  /**
   * Called by the worker after each committed batch. Hot path: the label children of each worker are
   * created once and cached, so a call costs prom-client's own work and nothing more.
   *
   * @param events events applied in the batch (not the skipped redeliveries, not the dead letters)
   * @param deadLettered events of the batch that went to the dead letter queue
   * @param commitSeconds how long applying and committing the batch took, in seconds
   */
  batchCommitted(
    worker: string,
    kind: WorkerKind,
    events: number,
    deadLettered: number,
    commitSeconds: number,
  ): void;
  /** Refreshes the gauges from a status snapshot; called at scrape time. */
  observe(status: RuntimeStatus): void;
}

export interface MetricsOptions {
  /**
   * The registry to put the metrics on; pass your own to serve prosa's metrics next to yours.
   * @default a new Registry (not prom-client's global one)
   */
  registry?: Registry;
  /**
   * Prefix of prosa's own metric names. The default process metrics keep their standard names
   * (`process_*`, `nodejs_*`) so stock Node.js dashboards work.
   * @default 'prosa_'
   */
  prefix?: string;
  /**
   * Also collect prom-client's default process and Node.js metrics (CPU, memory, event loop lag, GC,
   * handles). Skipped when the registry already has them.
   * @default true
   */
  defaultMetrics?: boolean;
  /** Where time comes from, for the seconds until a saga's next timeout. @default systemClock */
  clock?: Clock;
}

/**
 * Upper bounds of the batch commit latency histogram, in seconds: 0.5 ms (a small batch on a fast
 * disk) to 2 s (a batch of thousands of events, or a disk under pressure). Slower commits land in
 * `+Inf` and still count in `_sum` and `_count`.
 */
export const BATCH_COMMIT_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2,
];

/** Every state `prosa_worker_state` reports (one series each, 1 for the current one). */
export const WORKER_STATES: readonly (WorkerState | 'never run')[] = [...STATES, 'never run'];

const LABELS = ['worker', 'kind'] as const;
type Label = (typeof LABELS)[number];

/** A metric every default-metrics collector registers; its presence means they are collected. */
const DEFAULT_METRICS_PROBE = 'process_cpu_user_seconds_total';

interface WorkerChildren {
  readonly applied: Counter.Internal;
  readonly deadLettered: Counter.Internal;
  readonly commit: Histogram.Internal<Label>;
}

/** What a saga has under way, and its lease: whether this process is the active one, how often it took over. */
function sagaGauges(gauge: (name: string, help: string) => Gauge<string>) {
  const outbox = gauge(
    'saga_outbox_pending_commands',
    'Commands a saga recorded in its outbox and NATS has not acknowledged yet (outbox depth).',
  );
  const instances = gauge('saga_active_instances', 'Saga instances not finished yet.');
  const nextTimeout = gauge(
    'saga_next_timeout_seconds',
    "Seconds until the saga's next pending timeout is due; negative when overdue, absent when none is pending.",
  );
  const active = gauge(
    'saga_lease_active',
    "1 when this process holds the saga's lease (it dispatches commands and fires timers), 0 when it is a standby.",
  );
  const takeovers = gauge(
    'saga_lease_takeovers',
    "Times this process took the saga's lease over from another process (released or lapsed) since it started.",
  );
  return {
    gauges: [outbox, instances, nextTimeout, active, takeovers],
    observe(labels: Record<Label, string>, w: WorkerStatus, now: number) {
      outbox.set(labels, w.outboxPending ?? 0);
      instances.set(labels, w.activeInstances ?? 0);
      const due = w.nextTimeoutAt ? Date.parse(w.nextTimeoutAt) : Number.NaN;
      if (Number.isFinite(due)) nextTimeout.set(labels, (due - now) / 1000);
      if (w.lease?.role) active.set(labels, w.lease.role === 'active' ? 1 : 0);
      if (w.lease?.takeovers !== undefined) takeovers.set(labels, w.lease.takeovers);
    },
  };
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? 'prosa_';
  const clock = options.clock ?? systemClock;
  const registers = [registry];
  const labelNames = LABELS;

  const applied = new Counter<Label>({
    name: `${prefix}events_applied_total`,
    help: 'Events applied to the read model or saga and committed (redeliveries at or below the checkpoint are not counted).',
    labelNames,
    registers,
  });
  const deadLettered = new Counter<Label>({
    name: `${prefix}events_dead_lettered_total`,
    help: 'Events that could not be decoded, validated or applied and went to the dead letter queue.',
    labelNames,
    registers,
  });
  const commit = new Histogram<Label>({
    name: `${prefix}batch_commit_duration_seconds`,
    help: 'Time to apply a batch and commit it in one SQLite transaction (rows, snapshots, outbox, timers, checkpoint), in seconds.',
    labelNames,
    buckets: [...BATCH_COMMIT_BUCKETS_SECONDS],
    registers,
  });
  const gauge = (name: string, help: string, extra: readonly string[] = []) =>
    new Gauge<string>({ name: `${prefix}${name}`, help, labelNames: [...labelNames, ...extra], registers });
  const checkpoint = gauge(
    'checkpoint_sequence',
    'Last stream sequence applied and committed (the checkpoint in SQLite).',
  );
  const streamLastSeq = gauge(
    'stream_last_sequence',
    "Last sequence in the worker's stream on its subjects (absent while NATS cannot be asked).",
  );
  const lag = gauge(
    'lag_messages',
    "Messages on the worker's subjects not applied yet: stream last sequence minus checkpoint (absent while unknown).",
  );
  const deadLetters = gauge(
    'dead_letters',
    'Dead letters recorded for the worker and not purged (see prosa dlq ls).',
  );
  const waiting = gauge(
    'waiting_events',
    'Events that wait behind a dead letter of one of their entities (prosa dlq retry or skip releases them).',
  );
  const liveActors = gauge(
    'live_actors',
    'Actors held in memory; the others are passivated to their snapshots.',
  );
  const gapMessages = gauge(
    'gap_messages',
    "Stream messages the worker never applied because the stream's limits dropped them first (sum over recorded gaps).",
  );
  const state = gauge(
    'worker_state',
    `1 for the worker's current state, 0 for the others (${WORKER_STATES.join(', ')}).`,
    ['state'],
  );
  const saga = sagaGauges(gauge);
  const gauges = [
    ...saga.gauges,
    checkpoint,
    streamLastSeq,
    lag,
    deadLetters,
    waiting,
    liveActors,
    gapMessages,
    state,
  ];

  if (options.defaultMetrics !== false && !registry.getSingleMetric(DEFAULT_METRICS_PROBE)) {
    collectDefaultMetrics({ register: registry });
  }

  // One map per kind, so the hot path looks a worker up without building a key.
  const children: Record<WorkerKind, Map<string, WorkerChildren>> = {
    projection: new Map(),
    saga: new Map(),
  };
  const childrenOf = (worker: string, kind: WorkerKind): WorkerChildren => {
    let c = children[kind].get(worker);
    if (!c) {
      const labels = { worker, kind };
      c = {
        applied: applied.labels(labels),
        deadLettered: deadLettered.labels(labels),
        commit: commit.labels(labels),
      };
      // Series exist from the start (at 0), so rate() and alerts see them before the first event.
      c.applied.inc(0);
      c.deadLettered.inc(0);
      commit.zero(labels);
      children[kind].set(worker, c);
    }
    return c;
  };

  const observeWorker = (w: WorkerStatus) => {
    childrenOf(w.name, w.kind);
    const labels = { worker: w.name, kind: w.kind };
    checkpoint.set(labels, w.checkpoint);
    if (w.streamLastSeq !== null) streamLastSeq.set(labels, w.streamLastSeq);
    if (w.lag !== null) lag.set(labels, w.lag);
    deadLetters.set(labels, w.deadLettered);
    waiting.set(labels, w.waiting);
    liveActors.set(labels, w.liveActors);
    let missed = 0;
    for (const g of w.gaps) missed += g.to - g.from + 1;
    gapMessages.set(labels, missed);
    for (const s of WORKER_STATES) state.set({ ...labels, state: s }, s === w.state ? 1 : 0);
    if (w.kind === 'saga') saga.observe(labels, w, clock.now());
  };

  return {
    registry,
    batchCommitted(worker, kind, events, dead, commitSeconds) {
      const c = childrenOf(worker, kind);
      if (events > 0) c.applied.inc(events);
      if (dead > 0) c.deadLettered.inc(dead);
      c.commit.observe(commitSeconds);
    },
    observe(status) {
      // Start from empty: a value that became unknown (lag while NATS is away, a timeout that fired)
      // disappears instead of staying at its last value.
      for (const g of gauges) g.reset();
      for (const w of status.projections) observeWorker(w);
      for (const w of status.sagas) observeWorker(w);
    },
  };
}
