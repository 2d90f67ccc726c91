/**
 * Child process of scale.bench.ts: one consumer of the scale stream in a fresh process, so its memory
 * is its own. SCALE_MODE says which:
 *   hand      the hand-written worker (handWritten.ts), durable `handwritten`
 *   shipped   createRuntime with runtime.config.ts as shipped (topology, decommission, provisioning)
 *   topology  the same config with the topology projection alone
 *   rebuild   a runtime with topology alone on SCALE_DB (caught up already), then rebuild('topology')
 *
 * Protocol, one JSON object a line on stdout: `{"event":"started"}` just before it connects (the
 * parent times the catch-up from there, watching the durables' ack floors); then, once the parent
 * writes "stop" on stdin (rebuild: once the rebuild swapped in), `{"event":"result", ...}` with
 * its peak RSS and the database's sizes, measured before the worker stops.
 */
import { createInterface } from 'node:readline';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import shipped from '../../runtime.config.js';
import { resolveConfig } from '../../src/config/config.js';
import { silentLogger } from '../../src/logger.js';
import { createRuntime } from '../../src/runtime/runtime.js';
import { startHandWritten } from './handWritten.js';
import { databaseSizes } from './scaleDatabase.js';

const mode = process.env.SCALE_MODE as 'hand' | 'shipped' | 'topology' | 'rebuild';
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
const measure = () => ({
  maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  sizes: databaseSizes(path),
});

function runtimeFor(sagas: boolean) {
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
  return createRuntime(config, { log: silentLogger() });
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
  throw new Error(`SCALE_MODE must be hand, shipped, topology or rebuild, not ${String(mode)}`);
}
process.exit(0);
