/**
 * Child process of scale.bench.ts: one consumer of the scale stream in a fresh process, so its memory
 * is its own. SCALE_MODE says which:
 *   hand      the hand-written worker (handWritten.ts), durable `handwritten`
 *   shipped   createRuntime with runtime.config.ts as shipped (topology, decommission, provisioning)
 *   topology  the same config with the topology projection alone
 *   rebuild   a runtime with topology alone on SCALE_DB (caught up already), then rebuild('topology')
 *   split     the shipped config over two processes on one database (`prosa run --only`): topology
 *             here, the two sagas in a sibling process (SCALE_MODE=splitSagas) it starts and stops
 *
 * Protocol, one JSON object a line on stdout: `{"event":"started"}` just before it connects (the
 * parent times the catch-up from there, watching the durables' ack floors); then, once the parent
 * writes "stop" on stdin (rebuild: once the rebuild swapped in), `{"event":"result", ...}` with
 * its peak RSS and the database's sizes, measured before the worker stops.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import shipped from '../../runtime.config.js';
import { resolveConfig } from '../../src/config/config.js';
import { silentLogger } from '../../src/logger.js';
import { createRuntime } from '../../src/runtime/runtime.js';
import { startHandWritten } from './handWritten.js';
import { databaseSizes } from './scaleDatabase.js';

const mode = process.env.SCALE_MODE as 'hand' | 'shipped' | 'topology' | 'rebuild' | 'split' | 'splitSagas';
const url = process.env.NATS_URL as string;
const path = process.env.SCALE_DB as string;
const dir = process.env.SCALE_DIR as string;
const SCALE_STREAM = 'INFRASTRUCTURE_EVENTS';

const say = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
const stopRequested = () =>
  new Promise<void>((resolve) => {
    createInterface({ input: process.stdin }).on('line', (l) => {
      if (l.trim() === 'stop') resolve();
    });
  });
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
const measure = () => ({
  maxRssMb: peakRssMb(),
  sizes: databaseSizes(path),
});

function runtimeFor(sagas: boolean, only?: string[]) {
  const config = resolveConfig(
    {
      ...shipped,
      nats: { url },
      dataDir: dir,
      sqlite: { path },
      ...(sagas ? {} : { sagas: [] }),
      http: { enabled: false },
    },
    { env: {} },
  );
  return createRuntime(only ? { ...config, only } : config, { log: silentLogger() });
}

/** The sibling process of `split`: the sagas on the same database; its result line once told to stop. */
function startSagaSibling() {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, SCALE_MODE: 'splitSagas' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
  const result = new Promise<{ maxRssMb: number }>((resolve, reject) => {
    lines.on('line', (l) => resolve(JSON.parse(l)));
    child.once('exit', (code) =>
      reject(new Error(`the saga process exited with ${code} before it reported`)),
    );
  });
  return {
    stop: async () => {
      child.stdin?.write('stop\n');
      return result;
    },
  };
}

if (mode === 'hand') {
  const stop = stopRequested();
  say({ event: 'started' });
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const worker = await startHandWritten(nc, await jetstreamManager(nc), {
    stream: SCALE_STREAM,
    durable: 'handwritten',
    path,
  });
  await stop;
  const m = measure();
  await worker.stop();
  await nc.close();
  say({ event: 'result', ...m });
} else if (mode === 'shipped' || mode === 'topology') {
  const stop = stopRequested();
  const runtime = runtimeFor(mode === 'shipped');
  say({ event: 'started' });
  await runtime.start();
  await stop;
  const m = measure();
  await runtime.drain();
  say({ event: 'result', ...m });
} else if (mode === 'split') {
  const stop = stopRequested();
  const sagas = startSagaSibling();
  const runtime = runtimeFor(true, ['topology']);
  say({ event: 'started' });
  await runtime.start();
  await stop;
  const theirs = await sagas.stop();
  const m = measure();
  await runtime.drain();
  // The larger of the two processes' peaks (each is a process of its own, with its own limit).
  say({
    event: 'result',
    ...m,
    maxRssMb: Math.max(m.maxRssMb, theirs.maxRssMb),
    rssByProcess: [m.maxRssMb, theirs.maxRssMb],
  });
} else if (mode === 'splitSagas') {
  const stop = stopRequested();
  const runtime = runtimeFor(true, ['decommission', 'provisioning']);
  await runtime.start();
  await stop;
  say({ maxRssMb: peakRssMb() });
  await runtime.drain();
} else if (mode === 'rebuild') {
  const runtime = runtimeFor(false);
  await runtime.start();
  await runtime.caughtUp({ timeoutMs: 600_000 });
  say({ event: 'started' });
  const samples: [number, number][] = [];
  const started = performance.now();
  const result = await runtime.rebuild('topology', {
    onProgress: (p) => samples.push([Math.round(performance.now() - started), p.checkpoint]),
  });
  const ms = performance.now() - started;
  const m = measure();
  await runtime.drain();
  say({ event: 'result', ...m, ms, applied: result.applied, checkpoint: result.checkpoint, samples });
} else {
  throw new Error(`SCALE_MODE must be hand, shipped, split, topology or rebuild, not ${String(mode)}`);
}
process.exit(0);
