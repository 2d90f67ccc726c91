/**
 * `runtime.caughtUp()`: resolves once every worker's checkpoint has reached the last sequence its
 * stream held on its subjects when asked; a deterministic signal for tests and scripts instead of
 * sleeps.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { ProsaError } from '../errors.js';
import { lastSeqOnSubjects } from '../ops/status.js';
import type { Clock } from '../time/clock.js';
import type { Worker } from './worker.js';

export async function waitCaughtUp(o: {
  jsm: JetStreamManager;
  workers: readonly Worker[];
  /** Rebuilds under way before their worker starts: waited for first. */
  rebuilds: readonly Promise<unknown>[];
  timeoutMs: number;
  clock: Clock;
}): Promise<void> {
  const { jsm, timeoutMs, clock } = o;
  const deadline = clock.now() + timeoutMs;
  if (o.rebuilds.length > 0) {
    await Promise.race([Promise.allSettled(o.rebuilds), new Promise((r) => setTimeout(r, timeoutMs))]);
  }
  const targets = await Promise.all(
    o.workers.map(async (w) => [w, await lastSeqOnSubjects(jsm, w.stream, w.subjects)] as const),
  );
  const results = await Promise.allSettled(
    targets.map(([w, seq]) => w.waitFor(seq, Math.max(1, deadline - clock.now()))),
  );
  const laggards = results.flatMap((r, i) => {
    const [w, seq] = targets[i] as (typeof targets)[number];
    return r.status === 'rejected' ? [`${w.name} (at ${w.checkpoint} of ${seq})`] : [];
  });
  if (laggards.length > 0)
    throw new ProsaError('PROSA_TIMEOUT', `not caught up after ${timeoutMs} ms: ${laggards.join(', ')}`);
}
