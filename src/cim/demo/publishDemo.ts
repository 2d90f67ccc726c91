import type { JetStreamClient } from '@nats-io/jetstream';
import { ProsaError } from '../../errors.js';
import { createDemoScenario } from './createDemoScenario.js';

export interface PublishDemoOptions {
  /** A JetStream client on the server whose `INFRASTRUCTURE_EVENTS` stream receives the demo. */
  js: JetStreamClient;
  /** How many events to publish. */
  events: number;
  /** Cap in events per second. @default undefined: as fast as the server acknowledges */
  rate?: number;
  /** @default 1 */
  seed?: number;
  /**
   * The first event's append time, epoch milliseconds.
   * @default now with a `rate` (the timestamps then follow the publishing); without one, so the
   *   last event's time is about now
   */
  start?: number;
  /** Publishes awaiting their acknowledgement at once. @default 256 */
  window?: number;
  /**
   * Called with the events acknowledged so far, at most every 100 ms and once at the end.
   * @remarks keep it cheap; it runs on the publishing loop.
   */
  onProgress?: (published: number, total: number) => void;
  /** Stops publishing: in-flight publishes are awaited and the count so far is returned. */
  signal?: AbortSignal;
}

export interface PublishDemoResult {
  /** Events acknowledged by the stream. */
  published: number;
  /** Wall time, milliseconds. */
  ms: number;
}

/** Mean spacing of demo timestamps when there is no rate to follow. */
const FREE_SPACING_MS = 25;

/**
 * Publishes {@link createDemoScenario} to JetStream as the crates do: one message per event on its
 * subject, no headers (so no server-side dedupe: running it twice publishes twice). Publishes are
 * pipelined with a bounded window and paced to `rate` if given.
 *
 * @throws ProsaError `PROSA_STREAM_MISSING` if no stream captures the demo's subjects
 *   (create `INFRASTRUCTURE_EVENTS` first, e.g. with `prosa streams apply` or by starting the worker)
 */
export async function publishDemo(options: PublishDemoOptions): Promise<PublishDemoResult> {
  const { js, events, rate, onProgress, signal } = options;
  const window = Math.max(1, options.window ?? 256);
  const paced = rate !== undefined && rate > 0 && Number.isFinite(rate);
  const spacingMs = paced ? 1000 / (rate as number) : FREE_SPACING_MS;
  const started = performance.now();
  const start = options.start ?? (paced ? Date.now() : Date.now() - Math.max(0, events - 1) * spacingMs);
  const scenario = createDemoScenario({
    events,
    spacingMs,
    start,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });

  // Wrapped so they never reject: the first failure is kept and thrown from the loop.
  const inFlight: Promise<void>[] = [];
  let acked = 0;
  let failure: { error: unknown } | undefined;
  let lastProgress = 0;
  const progress = (force = false) => {
    if (!onProgress) return;
    const now = performance.now();
    if (force || now - lastProgress >= 100) {
      lastProgress = now;
      onProgress(acked, events);
    }
  };
  const acknowledged = () => {
    acked++;
    progress();
  };
  const failed = (error: unknown) => {
    failure ??= { error };
  };

  let i = 0;
  for (const { subject, data } of scenario) {
    if (signal?.aborted || failure) break;
    if (paced) {
      const ahead = started + (i * 1000) / (rate as number) - performance.now();
      if (ahead > 2) await new Promise((r) => setTimeout(r, ahead));
    }
    inFlight.push(js.publish(subject, data).then(acknowledged, failed));
    i++;
    // Acks come back in publish order, so waiting for the oldest keeps the window full.
    if (inFlight.length >= window) await inFlight.shift();
  }
  await Promise.all(inFlight);
  if (failure) throw explainPublishFailure(failure.error);
  progress(true);
  return { published: acked, ms: performance.now() - started };
}

function explainPublishFailure(e: unknown): unknown {
  // @nats-io/jetstream reports a publish nobody stores as JetStreamNotEnabled caused by "no responders".
  const text = `${(e as Error)?.message ?? e} ${((e as Error)?.cause as Error | undefined)?.message ?? ''}`;
  if (/no responders/i.test(text)) {
    return new ProsaError(
      'PROSA_STREAM_MISSING',
      'no stream captures the demo subjects (infrastructure.>): create INFRASTRUCTURE_EVENTS first, with `prosa streams apply` or by starting the worker (`npm start`); if it exists, check that the server runs with JetStream (`prosa doctor`)',
      { cause: e },
    );
  }
  return e;
}
