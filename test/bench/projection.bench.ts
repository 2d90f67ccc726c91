/**
 * The live projection path (issue 4) and the saga path (issue 5), on one stream of CIM
 * infrastructure events, in one run:
 *   raw ceiling     durable pull consumer, JSON.parse of each message, ack-all on the last of each
 *                   batch of 1,000 (the ack policy prosa uses), no effects; also with an explicit
 *                   ack of each message, for reference
 *   naive           consume; per event one SQLite transaction (an entity row + the checkpoint) and
 *                   one ack: what a team writes first
 *   hand-batched    the same row per event, one transaction per 1,000 and an ack-all: what a team
 *                   writes next, with no actors and no snapshots
 *   prosa live      createRuntime with the topology projection: decode, per-key XState actors,
 *                   rows + snapshots + checkpoint per batch, ack after commit
 *   prosa saga      createRuntime with the decommission saga alone; commands dispatched per second
 *   rebuild         runtime.rebuild('topology') beside the live model, next to the ordered-consumer
 *                   ceiling (no acks, JSON.parse) and the live rate
 *   xstate alone    the same events sent to a live actor per key as prosa runs it (src/engine/keyActor.ts:
 *                   the machine's own transitions), decoded beforehand, no I/O: the bound of any
 *                   one-thread design with XState per key
 *   memory          RSS of a worker after projecting 1,000,000 distinct keys with maxActors 10,000
 *                   (a child process, so the figure is the worker's own)
 *
 * Run:   npm run bench -- --only projection [--json] [--quick]
 *        node --conditions=prosa-source --import tsx test/bench/projection.bench.ts [--json] [--quick] [--events N] [--keys N] [--no-memory]
 * Needs: nats-server (Debian's 2.9.10 here); it starts its own on an ephemeral port with a temporary
 *        store. ~3-4 minutes in full; --quick uses 50,000 events and 200,000 keys for memory.
 * Prints a table, or with --json one JSON object. These machines are noisy: compare ratios within a run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import type { AnyStateMachine } from 'xstate';
import topology from '../../projections/topology.js';
import decommission from '../../sagas/decommission.js';
import { decodeInfrastructureEvent } from '../../src/cim/infrastructure.js';
import { resolveConfig } from '../../src/config/config.js';
import type { RawEvent } from '../../src/define/projection.js';
import { slotOf } from '../../src/engine/actorHost.js';
import { createKeyActor, type KeyActor } from '../../src/engine/keyActor.js';
import { silentLogger } from '../../src/logger.js';
import { createRuntime } from '../../src/runtime/runtime.js';
import { openDatabase } from '../../src/store/database.js';
import { seedInfrastructureEvents } from '../support/cimEvents.js';
import { startNatsServer } from '../support/natsServer.js';
import { printTable, publishAll, rate } from './support.js';

export interface BenchOptions {
  json: boolean;
  quick?: boolean;
  events?: number;
  keys?: number;
  memory?: boolean;
}

const STREAM = 'INFRASTRUCTURE_EVENTS';

async function createStream(jsm: JetStreamManager): Promise<void> {
  await jsm.streams.add({ name: STREAM, subjects: ['infrastructure.>'], max_msgs: -1, max_bytes: -1 });
}

/** Consumes everything with a throwaway durable; `handle` runs per message, `flush` per batch of `batch`. */
async function consumeAll(
  jsm: JetStreamManager,
  nc: NatsConnection,
  total: number,
  ackPolicy: AckPolicy,
  handle: (m: JsMsg) => void,
  batch = 1_000,
): Promise<number> {
  const durable = `bench_${Math.random().toString(36).slice(2, 8)}`;
  await jsm.consumers.add(STREAM, {
    durable_name: durable,
    ack_policy: ackPolicy,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 10_000,
    ack_wait: nanos(60_000),
  });
  const consumer = await jetstream(nc).consumers.get(STREAM, durable);
  const started = performance.now();
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    let messages: Awaited<ReturnType<typeof consumer.consume>> | undefined;
    consumer
      .consume({
        max_messages: batch,
        callback: (m) => {
          try {
            handle(m);
            seen++;
            if (ackPolicy === AckPolicy.All && (seen % batch === 0 || m.info.pending === 0)) m.ack();
            if (seen >= total) {
              messages?.stop();
              resolve();
            }
          } catch (e) {
            reject(e);
          }
        },
      })
      .then((m) => {
        messages = m;
      }, reject);
  });
  const ms = performance.now() - started;
  await jsm.consumers.delete(STREAM, durable);
  return ms;
}

/** The hand-written consumers' store: one row per entity (its last event's data) and a checkpoint. */
function entityStore(dir: string, name: string) {
  const db = openDatabase(join(dir, `${name}.db`));
  db.exec('CREATE TABLE IF NOT EXISTS entities (kind TEXT, id TEXT, body TEXT, PRIMARY KEY (kind, id))');
  const upsert = db.prepare(
    'INSERT INTO entities VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body',
  );
  const checkpoint = db.prepare(
    "INSERT INTO prosa_checkpoints (worker, seq, updated_at) VALUES (?, ?, '') ON CONFLICT (worker) DO UPDATE SET seq = excluded.seq",
  );
  return {
    db,
    row: (m: JsMsg): [string, string, string] => {
      const e = decodeInfrastructureEvent(m);
      const [kind, id] = topology.keys(e)[0] ?? ['none', 'none'];
      return [kind, id, JSON.stringify(e.data)];
    },
    upsert: (row: [string, string, string]) => upsert.run(row),
    checkpoint: (seq: number) => checkpoint.run(name, seq),
  };
}

function naiveHandler(dir: string): (m: JsMsg) => void {
  const store = entityStore(dir, 'naive');
  const apply = store.db.transaction((row: [string, string, string], seq: number) => {
    store.upsert(row);
    store.checkpoint(seq);
  });
  return (m) => {
    apply(store.row(m), m.seq);
    m.ack();
  };
}

/**
 * What a team writes by hand once the naive one is too slow: the same row per event, but one
 * transaction (rows + checkpoint) per 1,000 messages and an ack-all after it. No actors, no
 * snapshots: the ceiling of any design that writes SQLite from one thread.
 */
function batchedHandler(dir: string, batch: number): (m: JsMsg) => void {
  const store = entityStore(dir, 'batched');
  let rows: [string, string, string][] = [];
  const commit = store.db.transaction((seq: number) => {
    for (const r of rows) store.upsert(r);
    store.checkpoint(seq);
  });
  return (m) => {
    rows.push(store.row(m));
    // consumeAll acks the message this returns on (ack-all), so commit first.
    if (rows.length === batch || m.info.pending === 0) {
      commit(m.seq);
      rows = [];
    }
  };
}

async function prosaRun(url: string, dir: string, name: string, kind: 'projection' | 'saga', total: number) {
  const resolved = resolveConfig(
    {
      nats: { url },
      dataDir: dir,
      sqlite: { path: join(dir, `${name}.db`) },
      projections: kind === 'projection' ? [topology] : [],
      sagas: kind === 'saga' ? [decommission] : [],
      http: { enabled: false },
    },
    { env: {} },
  );
  const runtime = createRuntime(resolved, { log: silentLogger() });
  const started = performance.now();
  await runtime.start();
  await runtime.caughtUp({ timeoutMs: 600_000 });
  const ms = performance.now() - started;
  const status = await runtime.status();
  // The rebuild path on the same stream: replay beside the live model, then swap.
  const rebuildMs = kind === 'projection' ? (await runtime.rebuild('topology')).ms : 0;
  await runtime.drain();
  const entry = kind === 'projection' ? status.projections[0] : status.sagas[0];
  if (entry?.checkpoint !== total)
    throw new Error(`${name}: checkpoint ${entry?.checkpoint}, expected ${total}`);
  return { ms, rebuildMs, status: entry };
}

/**
 * What the actors alone cost: the same events, decoded beforehand, sent to one live key actor per key
 * (created on first use, as the engines create them), with no NATS and no SQLite. Any design with
 * XState per key on one thread runs below this.
 */
function xstateAlone(events: readonly RawEvent[]): number {
  const decoded = events.map((e) => topology.decode(e));
  const actors = new Map<string, KeyActor>();
  const machines = topology.entities as Record<string, { machine: AnyStateMachine }>;
  let sends = 0;
  const started = performance.now();
  for (const e of decoded) {
    for (const [kind, id] of topology.keys(e)) {
      const slot = slotOf(kind, id);
      let actor = actors.get(slot);
      if (!actor) {
        actor = createKeyActor(machines[kind]?.machine as AnyStateMachine, { input: { id } });
        actors.set(slot, actor);
      }
      actor.send(e);
      sends++;
    }
  }
  const ms = performance.now() - started;
  for (const a of actors.values()) a.stop();
  return rate(sends, ms);
}

/** The ordered-consumer ceiling (what a rebuild reads with): no acks, JSON.parse of each. */
async function orderedCeiling(nc: NatsConnection, total: number): Promise<number> {
  const consumer = await jetstream(nc).consumers.get(STREAM, { deliver_policy: DeliverPolicy.All });
  const decoder = new TextDecoder();
  const started = performance.now();
  let seen = 0;
  const messages = await consumer.consume({ max_messages: 10_000 });
  for await (const m of messages) {
    JSON.parse(decoder.decode(m.data));
    if (++seen >= total) break;
  }
  messages.stop();
  return performance.now() - started;
}

async function commandsDispatched(jsm: JetStreamManager): Promise<number> {
  try {
    return (await jsm.streams.info('COMMANDS')).state.messages;
  } catch {
    return 0;
  }
}

/** RSS of a worker process after projecting `keys` distinct keys with maxActors 10,000. */
async function memoryRun(
  url: string,
  dir: string,
  events: number,
): Promise<{ rssMb: number; heapMb: number; ms: number }> {
  const script = fileURLToPath(new URL('./memoryWorker.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=prosa-source', '--import', 'tsx', script], {
    env: { ...process.env, NATS_URL: url, BENCH_DIR: dir, BENCH_EVENTS: String(events) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => {
    out += c;
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`memory worker exited with ${code}: ${out}`);
  return JSON.parse(out.trim().split('\n').pop() as string);
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const total = opts.events ?? (opts.quick ? 50_000 : 200_000);
  const keys = opts.keys ?? (opts.quick ? 2_500 : 10_000);
  const memoryKeys = opts.quick ? 200_000 : 1_000_000;
  const server = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'prosa-bench-'));
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  try {
    const jsm = await jetstreamManager(nc);
    await createStream(jsm);
    const events = seedInfrastructureEvents(total, { keys, seed: 7 });
    const bytes = events.reduce((n, e) => n + e.data.length, 0);
    const pubStart = performance.now();
    await publishAll(jetstream(nc), events);
    const publishMs = performance.now() - pubStart;

    // Warm-up: one pass of the raw path (JIT, page cache), not counted.
    await consumeAll(jsm, nc, total, AckPolicy.All, (m) => JSON.parse(new TextDecoder().decode(m.data)));
    const decoder = new TextDecoder();
    const parse = (m: JsMsg) => JSON.parse(decoder.decode(m.data));
    const raw1 = await consumeAll(jsm, nc, total, AckPolicy.All, parse);
    const rawExplicit = await consumeAll(jsm, nc, total, AckPolicy.Explicit, (m) => {
      parse(m);
      m.ack();
    });
    const naive = await consumeAll(jsm, nc, total, AckPolicy.Explicit, naiveHandler(dir));
    const batched = await consumeAll(jsm, nc, total, AckPolicy.All, batchedHandler(dir, 1_000));
    const live = await prosaRun(server.url, dir, 'live', 'projection', total);
    const saga = await prosaRun(server.url, dir, 'saga', 'saga', total);
    const commands = await commandsDispatched(jsm);
    const raw2 = await consumeAll(jsm, nc, total, AckPolicy.All, parse);
    const ordered = await orderedCeiling(nc, total);
    const xstate = xstateAlone(events);
    const rawMs = Math.min(raw1, raw2);

    let memory: { rssMb: number; heapMb: number; ms: number; keys: number } | undefined;
    if (opts.memory !== false) {
      await jsm.streams.purge(STREAM);
      const distinct = seedInfrastructureEvents(memoryKeys, { keys: memoryKeys, seed: 11 });
      await publishAll(jetstream(nc), distinct);
      memory = { ...(await memoryRun(server.url, dir, memoryKeys)), keys: memoryKeys };
    }

    const ceiling = rate(total, rawMs);
    const figures = {
      events: total,
      keys,
      avgEventBytes: Math.round(bytes / total),
      publishPerSecond: rate(total, publishMs),
      rawCeilingAckAll: ceiling,
      rawCeilingExplicitAck: rate(total, rawExplicit),
      naive: rate(total, naive),
      handBatched: rate(total, batched),
      prosaLive: rate(total, live.ms),
      prosaSaga: rate(total, saga.ms),
      sagaCommandsDispatched: commands,
      sagaCommandsPerSecond: rate(commands, saga.ms),
      orderedCeiling: rate(total, ordered),
      prosaRebuild: rate(total, live.rebuildMs),
      xstateSendsAlone: xstate,
      ratios: {
        liveToCeiling: +(rate(total, live.ms) / ceiling).toFixed(2),
        liveToNaive: +(rate(total, live.ms) / rate(total, naive)).toFixed(2),
        sagaToCeiling: +(rate(total, saga.ms) / ceiling).toFixed(2),
        naiveToCeiling: +(rate(total, naive) / ceiling).toFixed(2),
        handBatchedToCeiling: +(rate(total, batched) / ceiling).toFixed(2),
        liveToHandBatched: +(rate(total, live.ms) / rate(total, batched)).toFixed(2),
        rebuildToLive: +(rate(total, live.rebuildMs) / rate(total, live.ms)).toFixed(2),
        rebuildToOrderedCeiling: +(rate(total, live.rebuildMs) / rate(total, ordered)).toFixed(2),
        xstateAloneToCeiling: +(xstate / ceiling).toFixed(2),
      },
      targets: { liveToCeiling: 0.5, sagaToCeiling: 0.4, rebuildToLive: 1.5, rssMbAt1MKeys: 512 },
      ...(memory ? { memory } : {}),
    };
    if (!opts.json) {
      printTable(
        `projection path: ${total.toLocaleString('en-US')} CIM events (~${figures.avgEventBytes} B) over ${keys.toLocaleString('en-US')} keys`,
        [
          ['raw ceiling (parse, ack-all per 1,000)', figures.rawCeilingAckAll, '1.00'],
          [
            'raw, explicit ack of each',
            figures.rawCeilingExplicitAck,
            (figures.rawCeilingExplicitAck / ceiling).toFixed(2),
          ],
          ['naive (txn + ack per event)', figures.naive, figures.ratios.naiveToCeiling.toFixed(2)],
          [
            'hand-batched, no actors (txn per 1,000)',
            figures.handBatched,
            figures.ratios.handBatchedToCeiling.toFixed(2),
          ],
          [
            'prosa live projection (topology)',
            figures.prosaLive,
            `${figures.ratios.liveToCeiling.toFixed(2)} (target >= 0.50)`,
          ],
          [
            'prosa saga (decommission)',
            figures.prosaSaga,
            `${figures.ratios.sagaToCeiling.toFixed(2)} (target >= 0.40)`,
          ],
          ['  commands dispatched', figures.sagaCommandsPerSecond, `${commands} commands`],
          [
            'ordered consumer ceiling (no acks)',
            figures.orderedCeiling,
            (figures.orderedCeiling / ceiling).toFixed(2),
          ],
          [
            'prosa rebuild (topology)',
            figures.prosaRebuild,
            `${figures.ratios.rebuildToLive.toFixed(2)} x live (target >= 1.5), ${figures.ratios.rebuildToOrderedCeiling.toFixed(2)} x ordered`,
          ],
          [
            'xstate sends alone (no NATS, no SQLite)',
            figures.xstateSendsAlone,
            figures.ratios.xstateAloneToCeiling.toFixed(2),
          ],
        ],
        ['path', 'events/s', 'x ceiling'],
      );
      if (memory) {
        process.stdout.write(
          `memory: RSS ${memory.rssMb} MB (heap ${memory.heapMb} MB) after ${memory.keys.toLocaleString('en-US')} distinct keys with maxActors 10,000 (target < 512 MB at 1M)\n`,
        );
      }
    }
    return figures;
  } finally {
    await nc.close();
    await server.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2);
  const num = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : undefined;
  };
  const json = argv.includes('--json');
  const result = await run({
    json,
    quick: argv.includes('--quick'),
    events: num('--events'),
    keys: num('--keys'),
    memory: !argv.includes('--no-memory'),
  });
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exit(0);
}
