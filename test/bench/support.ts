/** Shared pieces of the benchmark programs: publishing fast, timing, and printing a table. */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { RawEvent } from '../../src/define/projection.js';

/** Publishes messages with a bounded window of acks in flight (connect with noAsyncTraces). */
export async function publishAll(
  js: JetStreamClient,
  messages: readonly Pick<RawEvent, 'subject' | 'data'>[],
  window = 2_000,
): Promise<void> {
  const inFlight = new Set<Promise<unknown>>();
  for (const m of messages) {
    const p = js.publish(m.subject, m.data).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

export const rate = (events: number, ms: number): number => Math.round((events * 1000) / ms);

export function printTable(
  title: string,
  rows: readonly (readonly (string | number)[])[],
  head: readonly string[],
): void {
  const cells = [head, ...rows].map((r) =>
    r.map((c) => (typeof c === 'number' ? c.toLocaleString('en-US') : c)),
  );
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  process.stdout.write(`\n${title}\n${cells.map(line).join('\n')}\n`);
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};
