/** `prosa status` as a table a person reads at a glance. */
import type { RuntimeStatus, WorkerStatus } from './status.js';

const cell = (v: unknown) => (v === null || v === undefined ? '-' : String(v));

export function formatStatusTable(status: RuntimeStatus): string {
  const rows: WorkerStatus[] = [...status.projections, ...status.sagas];
  if (rows.length === 0) return 'no projections or sagas configured (runtime.config.ts)\n';
  const head = [
    'NAME',
    'KIND',
    'STATE',
    'CHECKPOINT',
    'STREAM LAST',
    'LAG',
    'EV/S',
    'ACTORS',
    'DEAD',
    'STREAM/CONSUMER',
  ];
  const body = rows.map((w) => [
    w.name,
    w.kind,
    w.state,
    cell(w.checkpoint),
    cell(w.streamLastSeq),
    w.lag === null ? '?' : w.lag === 0 ? '0 ✓' : String(w.lag),
    cell(w.eventsPerSecond),
    cell(w.liveActors),
    cell(w.deadLettered),
    `${w.stream}/${w.consumer}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  const notes = rows.flatMap((w) => [
    ...(w.detail ? [`${w.name}: ${w.detail}`] : []),
    ...w.gaps.map(
      (g) =>
        `${w.name}: GAP, messages ${g.from}..${g.to} were dropped by the stream before they were applied`,
    ),
  ]);
  return `${[line(head), ...body.map(line)].join('\n')}\n${notes.length ? `\n${notes.join('\n')}\n` : ''}`;
}
