/**
 * Event store appends (src/eventStore/eventStore.ts, docs/wire-format.md#event-store-appends): how
 * many events per second prosa stores with the server checking every append's expected version,
 * against the seed's 167 events/s (its stress test: 10,000 events written one by one in 59.79 s)
 * and against a no-check ceiling on the same stream.
 *
 * Scenarios, each run `--repeat` times (default 3; the median counts), after a warm-up:
 *   awaited     2,000 single-event appends to one aggregate, each awaited, each with its expected version
 *   pipelined   10,000 single-event appends over 1,000 aggregates, each with its expected version,
 *               at most `--window` (default 256) appends in flight
 *   batch       five 1,000-event batches, one after another, each to a new aggregate (expectedVersion 0),
 *               every event server-checked
 *   read        reading those five aggregates back, one after another
 *   ceiling     10,000 raw `js.publish` of the same bodies, same window, no expectations (the no-effect ceiling)
 *
 * Run:   node --conditions=prosa-source --import tsx test/bench/eventStore.bench.ts [--json] [--quick] [--repeat N] [--window N]
 *        (or with the others: npm run bench -- --only eventStore)
 * Needs: nats-server (Debian's /usr/sbin/nats-server 2.9.10 here, or NATS_SERVER_BIN); it starts its
 *        own server on an ephemeral port with a temporary store and removes it afterwards. The
 *        connection uses `noAsyncTraces: true`.
 * Prints a table, or with --json one JSON object. These machines are noisy: compare ratios within a run.
 * `run({ json })` returns the figures and prints the table itself only when `json` is false.
 */
import { pathToFileURL } from 'node:url';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { v7 as uuidv7 } from 'uuid';
import { makeEnvelope } from '../../src/cim/envelope.js';
import { createEventStore, type EventStore, type NewEvent } from '../../src/eventStore/eventStore.js';
import { startNatsServer } from '../support/natsServer.js';

/** The seed's sequential append rate (seeds/001: 10,000 events in 59.79 s). */
const SEED_BASELINE = 167;
/** 1,000-event batches per repeat of the batch scenario. */
const BATCHES = 5;

export interface BenchOptions {
  /** Return the figures without printing the table (the caller prints the JSON). */
  json: boolean;
  /** One repeat instead of three (the runner's `--quick`). @default false */
  quick?: boolean;
  /** @default 3, or 1 with `quick` */
  repeat?: number;
  /** Appends (or publishes) in flight in the pipelined and ceiling scenarios. @default 256 */
  window?: number;
}

interface Measured {
  events: number;
  ms: number;
}

interface ScenarioResult {
  description: string;
  events: number;
  /** Median over the repeats. */
  eventsPerSecond: number;
  runs: number[];
  ratioToBaseline: number;
  ratioToCeiling?: number;
  conflicts?: number;
}

const event = (n: number): NewEvent => ({
  eventType: 'ResourceUpdated',
  data: {
    ResourceUpdated: {
      event_id: uuidv7(),
      correlation_id: uuidv7(),
      causation_id: null,
      timestamp: new Date().toISOString(),
      resource_id: `host-${n}`,
      updates: {
        hostname: `host-${n}.example.internal`,
        capabilities: null,
        metadata: { rack: 'r1', row: '7' },
      },
    },
  },
});

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

async function time(f: () => Promise<number>): Promise<Measured> {
  const started = performance.now();
  const events = await f();
  return { events, ms: performance.now() - started };
}

async function awaited(store: EventStore, count: number, events: NewEvent[]): Promise<number> {
  const id = uuidv7();
  for (let v = 0; v < count; v++)
    await store.append(id, [events[v % events.length] as NewEvent], { expectedVersion: v });
  return count;
}

/** Runs `total` tasks with at most `window` in flight. */
async function windowed(total: number, window: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < total) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, total) }, worker));
}

async function pipelined(
  store: EventStore,
  total: number,
  aggregates: number,
  window: number,
  events: NewEvent[],
  conflicts: { count: number },
): Promise<number> {
  const ids = Array.from({ length: aggregates }, () => uuidv7());
  await windowed(total, window, async (i) => {
    const id = ids[i % aggregates] as string;
    try {
      await store.append(id, [events[i % events.length] as NewEvent], {
        expectedVersion: Math.floor(i / aggregates),
      });
    } catch {
      conflicts.count++;
    }
  });
  return total;
}

async function ceiling(nc: NatsConnection, prefix: string, total: number, window: number): Promise<number> {
  const js = jetstream(nc);
  const ids = Array.from({ length: 1_000 }, () => uuidv7());
  const bodies = Array.from({ length: 100 }, (_, n) =>
    JSON.stringify(
      makeEnvelope({ aggregateId: ids[n] as string, eventType: 'ResourceUpdated', data: event(n).data }),
    ),
  );
  await windowed(total, window, async (i) => {
    await js.publish(`${prefix}.${ids[i % ids.length]}`, bodies[i % bodies.length]);
  });
  return total;
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const repeat = opts.repeat ?? (opts.quick ? 1 : 3);
  const window = opts.window ?? 256;
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  try {
    const store = createEventStore({ connection: nc, stream: 'BENCH_EVENTS', subjectPrefix: 'bench' });
    await store.ensureStream();
    const events = Array.from({ length: 100 }, (_, n) => event(n));
    const conflicts = { count: 0 };

    // Warm up: JIT, connection buffers, the stream's first blocks.
    await awaited(store, 300, events);
    await pipelined(store, 3_000, 300, window, events, conflicts);
    await store.append(
      uuidv7(),
      Array.from({ length: 1_000 }, (_, n) => events[n % 100] as NewEvent),
    );
    await ceiling(nc, 'bench', 3_000, window);
    conflicts.count = 0;

    const runs: Record<string, Measured[]> = { awaited: [], pipelined: [], batch: [], read: [], ceiling: [] };
    for (let r = 0; r < repeat; r++) {
      runs.awaited?.push(await time(() => awaited(store, 2_000, events)));
      runs.pipelined?.push(await time(() => pipelined(store, 10_000, 1_000, window, events, conflicts)));
      // Five batches one after another (one alone is ~40 ms, too short to time on a noisy machine).
      const ids = Array.from({ length: BATCHES }, () => uuidv7());
      const batch = Array.from({ length: 1_000 }, (_, n) => events[n % 100] as NewEvent);
      runs.batch?.push(
        await time(async () => {
          for (const id of ids) await store.append(id, batch, { expectedVersion: 0 });
          return BATCHES * batch.length;
        }),
      );
      runs.read?.push(
        await time(async () => {
          let read = 0;
          for (const id of ids) read += (await store.read(id)).length;
          return read;
        }),
      );
      runs.ceiling?.push(await time(() => ceiling(nc, 'bench', 10_000, window)));
    }

    const rate = (m: Measured) => (m.events * 1_000) / m.ms;
    const ceilingRate = median((runs.ceiling ?? []).map(rate));
    const descriptions: Record<string, string> = {
      awaited: '2,000 single-event appends to one aggregate, each awaited, expected version each',
      pipelined: `10,000 single-event appends over 1,000 aggregates, expected version each, ${window} in flight`,
      batch: `${BATCHES} batches of 1,000 events, each to a new aggregate, every event server-checked`,
      read: `reading those ${BATCHES} aggregates of 1,000 events back, one after another`,
      ceiling: `10,000 raw js.publish, no checks, ${window} in flight (ceiling)`,
    };
    const scenarios: Record<string, ScenarioResult> = {};
    for (const [name, measured] of Object.entries(runs)) {
      const rates = measured.map(rate);
      const eventsPerSecond = median(rates);
      scenarios[name] = {
        description: descriptions[name] ?? name,
        events: measured[0]?.events ?? 0,
        eventsPerSecond: Math.round(eventsPerSecond),
        runs: rates.map(Math.round),
        ratioToBaseline: Number((eventsPerSecond / SEED_BASELINE).toFixed(1)),
        ...(name !== 'ceiling' && name !== 'read'
          ? { ratioToCeiling: Number((eventsPerSecond / ceilingRate).toFixed(2)) }
          : {}),
        ...(name === 'pipelined' ? { conflicts: conflicts.count } : {}),
      };
    }
    const result = {
      bench: 'eventStore',
      baseline: { eventsPerSecond: SEED_BASELINE, source: 'seeds/001: 10,000 sequential appends in 59.79 s' },
      server: nc.info?.version,
      node: process.version,
      repeat,
      window,
      scenarios,
    };
    // With --json the caller prints (test/bench/run.ts gathers every bench into one object).
    if (!opts.json) printTable(result.server ?? '?', scenarios);
    return result;
  } finally {
    await nc.close();
    await server.cleanup();
  }
}

function printTable(serverVersion: string, scenarios: Record<string, ScenarioResult>): void {
  const rows = [
    ['scenario', 'events', 'events/s (median)', 'x seed baseline', 'x ceiling', 'runs'],
    ['seed baseline', '10000', String(SEED_BASELINE), '1.0', '', 'seeds/001'],
    ...Object.entries(scenarios).map(([name, s]) => [
      name,
      String(s.events),
      String(s.eventsPerSecond),
      s.ratioToBaseline.toFixed(1),
      s.ratioToCeiling === undefined ? '' : s.ratioToCeiling.toFixed(2),
      s.runs.join(' / ') + (s.conflicts ? ` (${s.conflicts} conflicts)` : ''),
    ]),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  console.log(`event store appends — nats-server ${serverVersion}, node ${process.version}`);
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  '));
  console.log('');
  for (const [name, s] of Object.entries(scenarios)) console.log(`${name.padEnd(10)} ${s.description}`);
}

function argValue(args: string[], flag: string): number | undefined {
  const i = args.indexOf(flag);
  const v = i >= 0 ? Number(args[i + 1]) : Number.NaN;
  return Number.isInteger(v) && v > 0 ? v : undefined;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  run({
    json,
    quick: args.includes('--quick'),
    repeat: argValue(args, '--repeat'),
    window: argValue(args, '--window'),
  })
    .then((result) => {
      if (json) console.log(JSON.stringify(result));
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    });
}
