/**
 * The workload users have (issue 13): a stream shaped like a long-lived infrastructure
 * (scaleStream.ts: ~200,000 entities per 1,000,000 CIM events, every event type, most entities
 * touched a few times, hot ones hundreds, with time locality), published exactly as the crates
 * publish it, then caught up from nothing by each of these, one after the other, each in its own
 * child process (scaleWorker.ts) on the same stream:
 *   hand-written      what a team writes by hand (handWritten.ts): one durable, JSON.parse, a switch
 *                     implementing the topology fold rules, an upsert per touched row, a transaction
 *                     and an ack-all per 1,000 messages; no actors, no snapshots
 *   prosa shipped     createRuntime with runtime.config.ts as shipped: topology + decommission +
 *                     provisioning; caught up when all three durables are
 *   prosa split       the shipped config over two processes on one database (`prosa run --only`):
 *                     topology in one, the two sagas in the other; caught up when all three are
 *   prosa topology    the same config with the topology projection alone
 *   prosa rebuild     runtime.rebuild('topology') on the caught-up topology database, start to swap
 *
 * Each catch-up is timed from the child's start until its durables' ack floors reach the stream's
 * end (polled every 100 ms; the rebuild from its progress reports); the rate over the first and the
 * last 10% of it comes from those samples. Then each child's peak RSS (maxRSS) and database bytes
 * (file + -wal; per table from SQLite's dbstat, indexes with their table). The hand-written tables
 * must equal prosa's topology tables, live and rebuilt: "same rows: yes" or the first difference.
 *
 * Run:   npm run bench -- --only scale [--json] [--quick] [--events N]
 *        node --conditions=prosa-source --import tsx test/bench/scale.bench.ts [--json] [--quick] [--events N]
 * Needs: nats-server on PATH (it starts its own on an ephemeral port with a temporary store); a few
 *        GB of disk in the temp dir at the default 1,000,000 events. Default 1,000,000 events (the
 *        crates' stream limit), many minutes on two cores; --quick 100,000 (~2 minutes).
 * Prints a table with the targets beside the figures, or with --json one JSON object.
 * SCALE_PROFILE=<dir> writes each child's V8 CPU profiles (one per thread) to <dir>/<mode>/.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import type { EncodedEvent } from '../../src/cim/infrastructureEncoder.js';
import { startNatsServer } from '../support/natsServer.js';
import {
  type DatabaseSizes,
  firstTopologyDifference,
  TOPOLOGY_TABLES,
  topologyRowCounts,
} from './scaleDatabase.js';
import { scaleStream } from './scaleStream.js';
import { printTable, rate } from './support.js';

export interface ScaleOptions {
  json: boolean;
  quick?: boolean;
  /** @default 1,000,000; 100,000 with quick; or `--events N` on the command line */
  events?: number;
}

const STREAM = 'INFRASTRUCTURE_EVENTS';
const POLL_MS = 100;
const TARGETS = { shipped: 1.0, topology: 1.5, rebuild: 2.5, lastToFirst: 0.7, dbToHand: 3, rssMb: 300 };

/** As the crates create it (get-or-create, never updated): limits, file storage, 1y, 1,000,000 messages. */
async function createCrateStream(jsm: JetStreamManager): Promise<void> {
  await jsm.streams.add({
    name: STREAM,
    subjects: ['infrastructure.>'],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(365 * 24 * 3_600_000),
    max_msgs: 1_000_000,
    duplicate_window: nanos(120_000),
  });
}

/** Publishes with up to `window` acks in flight, no headers (as the crates do). */
async function publishPipelined(js: JetStreamClient, events: Iterable<EncodedEvent>, window = 2_000) {
  const inFlight = new Set<Promise<unknown>>();
  for (const e of events) {
    const p = js.publish(e.subject, e.data).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

type Mode = 'hand' | 'shipped' | 'split' | 'topology' | 'rebuild';
/** [ms since start, events applied] */
type Sample = [number, number];

interface ChildResult {
  ms: number;
  samples: Sample[];
  maxRssMb: number;
  sizes: DatabaseSizes;
}

interface Stream {
  first: number;
  last: number;
  events: number;
}

/** The effective ack floor of each durable (its end once nothing is pending), the lowest of them. */
async function ackFloor(jsm: JetStreamManager, durables: readonly string[], s: Stream): Promise<number> {
  let low = s.last;
  for (const d of durables) {
    const info = await jsm.consumers.info(STREAM, d).catch(() => undefined);
    const floor =
      info === undefined
        ? 0
        : info.num_pending === 0 && info.num_ack_pending === 0
          ? s.last
          : info.ack_floor.stream_seq;
    low = Math.min(low, floor);
  }
  return low;
}

/** Runs one child to catch-up (or to its rebuild's swap) and returns its figures. */
async function runChild(
  mode: Mode,
  o: { url: string; dir: string; db: string; jsm: JetStreamManager; stream: Stream; durables: string[] },
): Promise<ChildResult> {
  const script = fileURLToPath(new URL('./scaleWorker.ts', import.meta.url));
  // SCALE_PROFILE=<dir>: each child writes a V8 CPU profile there (the profile that shows what bounds it).
  const profile = process.env.SCALE_PROFILE;
  const flags = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}/${mode}`] : [];
  const child = spawn(process.execPath, [...flags, '--conditions=prosa-source', '--import', 'tsx', script], {
    env: { ...process.env, SCALE_MODE: mode, NATS_URL: o.url, SCALE_DB: o.db, SCALE_DIR: o.dir },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<Record<string, unknown>> => {
    const l = await Promise.race([lines.next(), exited.then(() => ({ done: true, value: '' }))]);
    if (l.done) throw new Error(`scale worker ${mode} exited with ${child.exitCode} before it reported`);
    return JSON.parse(l.value as string);
  };
  const started = await nextLine();
  if (started.event !== 'started') throw new Error(`scale worker ${mode}: ${JSON.stringify(started)}`);
  const t0 = performance.now();
  const samples: Sample[] = [];
  let ms = 0;
  if (o.durables.length > 0) {
    for (;;) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      if (child.exitCode !== null) throw new Error(`scale worker ${mode} exited with ${child.exitCode}`);
      const floor = await ackFloor(o.jsm, o.durables, o.stream);
      const at = performance.now() - t0;
      samples.push([Math.round(at), Math.max(0, floor - o.stream.first + 1)]);
      if (floor >= o.stream.last) {
        ms = at;
        break;
      }
    }
    child.stdin.write('stop\n');
  }
  const result = await nextLine();
  child.stdin.end();
  await exited;
  if (mode === 'rebuild') {
    ms = result.ms as number;
    for (const [t, checkpoint] of result.samples as Sample[])
      samples.push([t, Math.max(0, checkpoint - o.stream.first + 1)]);
  }
  return { ms, samples, maxRssMb: result.maxRssMb as number, sizes: result.sizes as DatabaseSizes };
}

/** Events/s over the first and the last 10% of a catch-up, from its samples. */
function edgeRates(r: ChildResult, events: number): { first: number; last: number } {
  const firstAt = r.samples.find(([, n]) => n >= events * 0.1) ?? [r.ms, events];
  const before = r.samples.filter(([, n]) => n <= events * 0.9).at(-1) ?? [0, 0];
  return {
    first: rate(firstAt[1], firstAt[0]),
    last: before[0] < r.ms ? rate(events - before[1], r.ms - before[0]) : 0,
  };
}

async function deleteDurables(jsm: JetStreamManager, durables: readonly string[]): Promise<void> {
  for (const d of durables) await jsm.consumers.delete(STREAM, d).catch(() => undefined);
}

const eventsFromArgv = (): number | undefined => {
  const i = process.argv.indexOf('--events');
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
};

const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
const x = (v: number) => v.toFixed(2);

export async function run(opts: ScaleOptions): Promise<Record<string, unknown>> {
  const events = opts.events ?? eventsFromArgv() ?? (opts.quick ? 100_000 : 1_000_000);
  const server = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'prosa-scale-'));
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  try {
    const jsm = await jetstreamManager(nc);
    await createCrateStream(jsm);
    const source = scaleStream(events);
    const pubStart = performance.now();
    await publishPipelined(jetstream(nc), source.events());
    const publishMs = performance.now() - pubStart;
    const state = (await jsm.streams.info(STREAM)).state;
    const stream: Stream = { first: state.first_seq, last: state.last_seq, events: state.messages };
    const base = { url: server.url, dir, jsm, stream };
    const path = (name: string) => join(dir, `${name}.db`);

    const hand = await runChild('hand', { ...base, db: path('hand'), durables: ['handwritten'] });
    const sagas = ['topology', 'decommission', 'provisioning'];
    const shipped = await runChild('shipped', { ...base, db: path('shipped'), durables: sagas });
    await deleteDurables(jsm, sagas);
    const split = await runChild('split', { ...base, db: path('split'), durables: sagas });
    await deleteDurables(jsm, sagas);
    const sameSplit = firstTopologyDifference(path('hand'), path('split'));
    const topology = await runChild('topology', { ...base, db: path('topology'), durables: ['topology'] });
    const sameLive = firstTopologyDifference(path('hand'), path('topology'));
    const sameShipped = firstTopologyDifference(path('hand'), path('shipped'));
    const rebuild = await runChild('rebuild', { ...base, db: path('topology'), durables: [] });
    const sameRebuilt = firstTopologyDifference(path('hand'), path('topology'));
    await deleteDurables(jsm, ['topology', 'handwritten']);
    const rows = topologyRowCounts(path('hand'));

    const n = stream.events;
    const handRate = rate(n, hand.ms);
    const figure = (r: ChildResult) => {
      const edges = edgeRates(r, n);
      return {
        eventsPerSecond: rate(n, r.ms),
        ms: Math.round(r.ms),
        toHandWritten: +(rate(n, r.ms) / handRate).toFixed(2),
        first10PerSecond: edges.first,
        last10PerSecond: edges.last,
        lastToFirst: +(edges.last / Math.max(1, edges.first)).toFixed(2),
        dbBytes: r.sizes.totalBytes,
        walBytes: r.sizes.walBytes,
        dbToHandWritten: +(r.sizes.totalBytes / hand.sizes.totalBytes).toFixed(2),
        tables: r.sizes.tables,
        peakRssMb: r.maxRssMb,
        samples: r.samples,
      };
    };
    const runs = {
      handWritten: figure(hand),
      prosaShipped: figure(shipped),
      prosaSplit: figure(split),
      prosaTopology: figure(topology),
      prosaRebuild: figure(rebuild),
    };
    const same = (d: string | undefined) => d ?? 'yes';
    const figures = {
      events: n,
      entities: source.entities,
      shape: source.shape,
      byType: source.byType,
      rows,
      avgEventBytes: Math.round(state.bytes / n),
      publishPerSecond: rate(n, publishMs),
      runs,
      sameRows: {
        topology: same(sameLive),
        shipped: same(sameShipped),
        split: same(sameSplit),
        rebuilt: same(sameRebuilt),
      },
      targets: TARGETS,
    };
    if (!opts.json) print(figures);
    return figures;
  } finally {
    await nc.close();
    await server.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Figure = {
  eventsPerSecond: number;
  toHandWritten: number;
  first10PerSecond: number;
  last10PerSecond: number;
  lastToFirst: number;
  dbBytes: number;
  dbToHandWritten: number;
  tables: Record<string, number>;
  peakRssMb: number;
};

function print(f: {
  events: number;
  entities: number;
  avgEventBytes: number;
  publishPerSecond: number;
  byType: Record<string, number | undefined>;
  runs: Record<'handWritten' | 'prosaShipped' | 'prosaSplit' | 'prosaTopology' | 'prosaRebuild', Figure>;
  sameRows: Record<string, string>;
}): void {
  const { handWritten: hand, prosaShipped, prosaSplit, prosaTopology, prosaRebuild } = f.runs;
  const row = (name: string, r: Figure, target: number | undefined, ofWhat = '') => [
    name,
    r.eventsPerSecond,
    target === undefined ? '1.00' : `${x(r.toHandWritten)} (>= ${x(target)}${ofWhat})`,
    r.first10PerSecond,
    r.last10PerSecond,
    `${x(r.lastToFirst)} (>= ${x(TARGETS.lastToFirst)})`,
    `${mb(r.dbBytes)} = ${x(r.dbToHandWritten)}x (<= ${TARGETS.dbToHand}x)`,
    `${r.peakRssMb} (< ${TARGETS.rssMb})`,
  ];
  const types = Object.entries(f.byType)
    .map(([t, c]) => `${t} ${(c ?? 0).toLocaleString('en-US')}`)
    .join(', ');
  printTable(
    `scale: ${f.events.toLocaleString('en-US')} CIM events (~${f.avgEventBytes} B) over ${f.entities.toLocaleString('en-US')} entities, published at ${f.publishPerSecond.toLocaleString('en-US')}/s\n${types}`,
    [
      row('hand-written (fold by hand, txn per 1,000)', hand, undefined),
      row('prosa, shipped config (topology + 2 sagas)', prosaShipped, TARGETS.shipped),
      row('prosa, shipped config in 2 processes (--only)', prosaSplit, TARGETS.shipped),
      row('prosa, topology alone', prosaTopology, TARGETS.topology),
      row('prosa rebuild (topology), start to swap', prosaRebuild, TARGETS.rebuild, ' of catch-up'),
    ],
    [
      'catch-up from nothing',
      'events/s',
      'x hand-written',
      'first 10%',
      'last 10%',
      'last/first',
      'DB MB',
      'peak RSS MB',
    ],
  );
  const names = [...new Set([hand, prosaShipped, prosaTopology].flatMap((r) => Object.keys(r.tables)))].sort(
    (a, b) => (prosaShipped.tables[b] ?? 0) - (prosaShipped.tables[a] ?? 0),
  );
  const tableRows = names
    .filter((t) => (TOPOLOGY_TABLES as readonly string[]).includes(t) || (prosaShipped.tables[t] ?? 0) >= 1e6)
    .map((t) => [t, ...[hand, prosaShipped, prosaTopology, prosaRebuild].map((r) => mb(r.tables[t] ?? 0))]);
  const rest = (r: Figure) =>
    mb(r.dbBytes - tableRows.reduce((sum, row) => sum + (r.tables[row[0] as string] ?? 0), 0));
  printTable(
    'database MB per table (indexes with their table; "rest": other tables, free pages and the -wal file)',
    [
      ...tableRows,
      ['rest', rest(hand), rest(prosaShipped), rest(prosaTopology), rest(prosaRebuild)],
      [
        'total',
        mb(hand.dbBytes),
        mb(prosaShipped.dbBytes),
        mb(prosaTopology.dbBytes),
        mb(prosaRebuild.dbBytes),
      ],
    ],
    ['table', 'hand-written', 'shipped', 'topology', 'after rebuild'],
  );
  process.stdout.write(
    `same rows as hand-written: topology ${f.sameRows.topology}; shipped ${f.sameRows.shipped}; split ${f.sameRows.split}; rebuilt ${f.sameRows.rebuilt}\n`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const result = await run({ json, quick: argv.includes('--quick') });
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exit(0);
}
