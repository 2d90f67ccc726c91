import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import type { RuntimeStatus, WorkerStatus } from '../../../src/ops/status.js';
import { BATCH_COMMIT_BUCKETS_SECONDS, createMetrics, WORKER_STATES } from '../../../src/serve/metrics.js';

const NOW = Date.parse('2025-01-01T12:00:00.000Z');

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of an exposition text (comments skipped). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] as string] = l[2] as string;
    }
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one sample with that name whose labels include `labels`, or undefined. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = parse(text).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

const projection = (over: Partial<WorkerStatus> = {}): WorkerStatus => ({
  name: 'ledger',
  kind: 'projection',
  stream: 'LEDGER',
  consumer: 'ledger',
  checkpoint: 120,
  streamLastSeq: 150,
  lag: 30,
  deadLettered: 2,
  waiting: 0,
  liveActors: 7,
  state: 'catching up',
  eventsPerSecond: 400,
  gaps: [],
  ...over,
});

const saga = (over: Partial<WorkerStatus> = {}): WorkerStatus => ({
  ...projection({
    name: 'decommission',
    consumer: 'decommission',
    state: 'running',
    lag: 0,
    streamLastSeq: 120,
  }),
  kind: 'saga',
  activeInstances: 4,
  outboxPending: 3,
  nextTimeoutAt: new Date(NOW + 90_000).toISOString(),
  ...over,
});

const status = (projections: WorkerStatus[], sagas: WorkerStatus[] = []): RuntimeStatus => ({
  projections,
  sagas,
});

const P = { worker: 'ledger', kind: 'projection' };
const S = { worker: 'decommission', kind: 'saga' };

describe('metrics', () => {
  describe('when a projection commits batches', () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.batchCommitted('ledger', 'projection', 100, 0, 0.0003);
    metrics.batchCommitted('ledger', 'projection', 48, 2, 0.004);
    metrics.batchCommitted('ledger', 'projection', 0, 1, 3.5);

    it('counts the events applied, per worker and kind', async () => {
      expect(value(await metrics.registry.metrics(), 'prosa_events_applied_total', P)).toBe(148);
    });

    it('counts the events dead-lettered', async () => {
      expect(value(await metrics.registry.metrics(), 'prosa_events_dead_lettered_total', P)).toBe(3);
    });

    it('records each commit in a histogram with buckets from 0.5 ms to 2 s', async () => {
      const text = await metrics.registry.metrics();
      const bucket = (le: string) => value(text, 'prosa_batch_commit_duration_seconds_bucket', { ...P, le });
      const les = parse(text)
        .filter((s) => s.name === 'prosa_batch_commit_duration_seconds_bucket')
        .map((s) => s.labels.le);
      expect(les).toEqual([...BATCH_COMMIT_BUCKETS_SECONDS.map(String), '+Inf']);
      expect(les[0]).toBe('0.0005');
      expect(bucket('0.0005')).toBe(1);
      expect(bucket('0.0025')).toBe(1);
      expect(bucket('0.005')).toBe(2);
      expect(bucket('2')).toBe(2);
      expect(bucket('+Inf')).toBe(3);
      expect(value(text, 'prosa_batch_commit_duration_seconds_count', P)).toBe(3);
      expect(value(text, 'prosa_batch_commit_duration_seconds_sum', P)).toBeCloseTo(3.5043, 6);
    });
  });

  describe('when the same worker commits again', () => {
    it('reuses its cached label children instead of looking them up', () => {
      const metrics = createMetrics({ defaultMetrics: false });
      metrics.batchCommitted('ledger', 'projection', 1, 0, 0.001);
      const counter = metrics.registry.getSingleMetric('prosa_events_applied_total');
      const histogram = metrics.registry.getSingleMetric('prosa_batch_commit_duration_seconds');
      const labels = [vi.spyOn(counter as never, 'labels'), vi.spyOn(histogram as never, 'labels')];
      for (let i = 0; i < 100; i++) metrics.batchCommitted('ledger', 'projection', 1, 1, 0.001);
      for (const spy of labels) expect(spy).not.toHaveBeenCalled();
    });
  });

  describe('when a projection and a saga share a name', () => {
    it('keeps their series apart by kind', async () => {
      const metrics = createMetrics({ defaultMetrics: false });
      metrics.batchCommitted('same', 'projection', 5, 0, 0.001);
      metrics.batchCommitted('same', 'saga', 7, 0, 0.001);
      const text = await metrics.registry.metrics();
      expect(value(text, 'prosa_events_applied_total', { worker: 'same', kind: 'projection' })).toBe(5);
      expect(value(text, 'prosa_events_applied_total', { worker: 'same', kind: 'saga' })).toBe(7);
    });
  });

  describe('when a status snapshot is observed', () => {
    const metrics = createMetrics({ defaultMetrics: false, clock: { now: () => NOW } });
    metrics.observe(
      status(
        [
          projection({
            gaps: [
              { from: 3, to: 10 },
              { from: 20, to: 20 },
            ],
          }),
        ],
        [saga()],
      ),
    );

    it('sets the position gauges of each projection and saga', async () => {
      const text = await metrics.registry.metrics();
      expect(value(text, 'prosa_checkpoint_sequence', P)).toBe(120);
      expect(value(text, 'prosa_stream_last_sequence', P)).toBe(150);
      expect(value(text, 'prosa_lag_messages', P)).toBe(30);
      expect(value(text, 'prosa_dead_letters', P)).toBe(2);
      expect(value(text, 'prosa_live_actors', P)).toBe(7);
      expect(value(text, 'prosa_gap_messages', P)).toBe(9);
      expect(value(text, 'prosa_checkpoint_sequence', S)).toBe(120);
      expect(value(text, 'prosa_lag_messages', S)).toBe(0);
    });

    it('sets outbox depth, active instances and seconds until the next timeout for sagas only', async () => {
      const text = await metrics.registry.metrics();
      expect(value(text, 'prosa_saga_outbox_pending_commands', S)).toBe(3);
      expect(value(text, 'prosa_saga_active_instances', S)).toBe(4);
      expect(value(text, 'prosa_saga_next_timeout_seconds', S)).toBe(90);
      expect(value(text, 'prosa_saga_outbox_pending_commands', P)).toBeUndefined();
      expect(value(text, 'prosa_saga_active_instances', P)).toBeUndefined();
    });

    it('marks the current state of each worker with 1 and every other state with 0', async () => {
      const text = await metrics.registry.metrics();
      for (const s of WORKER_STATES) {
        expect(value(text, 'prosa_worker_state', { ...P, state: s })).toBe(s === 'catching up' ? 1 : 0);
        expect(value(text, 'prosa_worker_state', { ...S, state: s })).toBe(s === 'running' ? 1 : 0);
      }
    });

    it('shows the counters and the histogram at 0 for workers that committed nothing yet', async () => {
      const text = await metrics.registry.metrics();
      expect(value(text, 'prosa_events_applied_total', P)).toBe(0);
      expect(value(text, 'prosa_events_dead_lettered_total', S)).toBe(0);
      expect(value(text, 'prosa_batch_commit_duration_seconds_count', S)).toBe(0);
    });
  });

  describe('when NATS could not be asked for the stream position', () => {
    it('leaves out stream last sequence and lag instead of reporting a stale or zero value', async () => {
      const metrics = createMetrics({ defaultMetrics: false });
      metrics.observe(status([projection()]));
      metrics.observe(status([projection({ streamLastSeq: null, lag: null })]));
      const text = await metrics.registry.metrics();
      expect(value(text, 'prosa_stream_last_sequence', P)).toBeUndefined();
      expect(value(text, 'prosa_lag_messages', P)).toBeUndefined();
      expect(value(text, 'prosa_checkpoint_sequence', P)).toBe(120);
    });
  });

  describe('when a saga has no pending timeout', () => {
    it('leaves out the seconds until the next timeout', async () => {
      const metrics = createMetrics({ defaultMetrics: false, clock: { now: () => NOW } });
      metrics.observe(status([], [saga()]));
      metrics.observe(status([], [saga({ nextTimeoutAt: null })]));
      expect(value(await metrics.registry.metrics(), 'prosa_saga_next_timeout_seconds', S)).toBeUndefined();
    });
  });

  describe("when a saga's next timeout is overdue", () => {
    it('reports negative seconds', async () => {
      const metrics = createMetrics({ defaultMetrics: false, clock: { now: () => NOW } });
      metrics.observe(status([], [saga({ nextTimeoutAt: new Date(NOW - 2_500).toISOString() })]));
      expect(value(await metrics.registry.metrics(), 'prosa_saga_next_timeout_seconds', S)).toBe(-2.5);
    });
  });

  describe('when a later snapshot differs', () => {
    it('replaces the gauge values and keeps the counters', async () => {
      const metrics = createMetrics({ defaultMetrics: false });
      metrics.batchCommitted('ledger', 'projection', 10, 0, 0.001);
      metrics.observe(status([projection()]));
      metrics.observe(status([projection({ checkpoint: 150, lag: 0, state: 'running' })]));
      const text = await metrics.registry.metrics();
      expect(value(text, 'prosa_checkpoint_sequence', P)).toBe(150);
      expect(value(text, 'prosa_lag_messages', P)).toBe(0);
      expect(value(text, 'prosa_worker_state', { ...P, state: 'running' })).toBe(1);
      expect(value(text, 'prosa_worker_state', { ...P, state: 'catching up' })).toBe(0);
      expect(value(text, 'prosa_events_applied_total', P)).toBe(10);
    });
  });

  describe('every prosa metric', () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const prosa = () => metrics.registry.getMetricsAsArray().filter((m) => m.name.startsWith('prosa_'));

    it('is named with the prefix and a unit or _total where one applies', () => {
      expect(prosa().map((m) => m.name)).toEqual([
        'prosa_events_applied_total',
        'prosa_events_dead_lettered_total',
        'prosa_batch_commit_duration_seconds',
        'prosa_checkpoint_sequence',
        'prosa_stream_last_sequence',
        'prosa_lag_messages',
        'prosa_dead_letters',
        'prosa_waiting_events',
        'prosa_live_actors',
        'prosa_gap_messages',
        'prosa_worker_state',
        'prosa_saga_outbox_pending_commands',
        'prosa_saga_active_instances',
        'prosa_saga_next_timeout_seconds',
        'prosa_saga_lease_active',
        'prosa_saga_lease_takeovers',
      ]);
    });

    it('has a help text and the worker and kind labels', async () => {
      const text = await metrics.registry.metrics();
      for (const m of prosa()) {
        expect(text).toMatch(new RegExp(`^# HELP ${m.name} \\S.{20,}$`, 'm'));
        expect((m as unknown as { labelNames: string[] }).labelNames).toEqual(
          expect.arrayContaining(['worker', 'kind']),
        );
      }
    });
  });

  describe('when another prefix is given', () => {
    it('names the metrics with it', async () => {
      const metrics = createMetrics({ defaultMetrics: false, prefix: 'shop_' });
      metrics.batchCommitted('ledger', 'projection', 1, 0, 0.001);
      const text = await metrics.registry.metrics();
      expect(value(text, 'shop_events_applied_total', P)).toBe(1);
      expect(text).not.toContain('prosa_');
    });
  });

  describe('default process metrics', () => {
    describe('when left on', () => {
      it('adds the standard process and Node.js series', async () => {
        const text = await createMetrics().registry.metrics();
        expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
        expect(text).toMatch(/^process_resident_memory_bytes \d/m);
        expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
        expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
      });
    });

    describe('when the given registry already has them', () => {
      it('does not register them twice', async () => {
        const registry = new Registry();
        createMetrics({ registry, prefix: 'a_' });
        const metrics = createMetrics({ registry, prefix: 'b_' });
        expect(metrics.registry).toBe(registry);
        expect((await registry.metrics()).match(/^# TYPE process_cpu_user_seconds_total/gm)).toHaveLength(1);
      });
    });

    describe('when turned off', () => {
      it('serves prosa metrics only', async () => {
        const text = await createMetrics({ defaultMetrics: false }).registry.metrics();
        expect(text).not.toContain('process_');
        expect(text).not.toContain('nodejs_');
      });
    });
  });
});
