/**
 * Child process of projection.bench.ts: runs the topology projection with maxActors 10,000 against
 * NATS_URL until BENCH_EVENTS are applied, then prints its own memory as one JSON line.
 */
import { join } from 'node:path';
import topology from '../../projections/topology.js';
import { resolveConfig } from '../../src/config/config.js';
import { silentLogger } from '../../src/logger.js';
import { createRuntime } from '../../src/runtime/runtime.js';

const dir = process.env.BENCH_DIR as string;
const resolved = resolveConfig(
  {
    nats: { url: process.env.NATS_URL as string },
    dataDir: dir,
    sqlite: { path: join(dir, 'memory.db') },
    projections: [topology],
    defaults: { maxActors: 10_000 },
    http: { enabled: false },
  },
  { env: {} },
);
const runtime = createRuntime(resolved, { log: silentLogger() });
const started = performance.now();
await runtime.start();
await runtime.caughtUp({ timeoutMs: 900_000 });
const ms = performance.now() - started;
const status = await runtime.status();
if (status.projections[0]?.lag !== 0) {
  throw new Error(`not caught up: ${JSON.stringify(status.projections[0])}`);
}
const { rss, heapUsed } = process.memoryUsage();
await runtime.drain();
process.stdout.write(
  `${JSON.stringify({ rssMb: Math.round(rss / 2 ** 20), heapMb: Math.round(heapUsed / 2 ** 20), ms: Math.round(ms) })}\n`,
);
process.exit(0);
