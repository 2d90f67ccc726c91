/** `prosa status` as a table a person reads at a glance. */
import type { DatabaseSize, RuntimeStatus, WorkerStatus } from '../../internal.js';

const cell = (v: unknown) => (v === null || v === undefined ? '-' : String(v));

export function formatStatusTable(status: RuntimeStatus): string {
  const rows: WorkerStatus[] = [...status.projections, ...status.sagas];
  if (rows.length === 0) return 'no projections or sagas configured (runtime.config.ts)\n';
  const sagas = status.sagas.length === 0 ? '' : `\n${sagaTable(status.sagas)}`;
  const database = status.database ? `\n${databaseLine(status.database)}\n` : '';
  return `${workerTable(rows)}${sagas}${database}${notesOf(rows)}`;
}

/** 1536 -> "1.5 KiB". */
function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** How big the SQLite file is: the file, its WAL, and the free pages a VACUUM would give back. */
function databaseLine(d: DatabaseSize): string {
  const free =
    d.pageSize !== null && d.pages !== null && d.freePages !== null
      ? `, ${formatBytes(d.freePages * d.pageSize)} free (${d.freePages} of ${d.pages} pages)`
      : '';
  return `DATABASE  ${d.path}  ${formatBytes(d.bytes)} + WAL ${formatBytes(d.walBytes)}${free}`;
}

/**
 * What each saga has under way: live instances, commands not yet in COMMANDS, the next timeout, and
 * which process runs its side effects (this one's role, and the active one).
 */
function sagaTable(sagas: readonly WorkerStatus[]): string {
  // Without NATS no lease is known: the columns would say nothing.
  const leased = sagas.some((w) => w.lease !== undefined);
  return table(
    ['SAGA', 'INSTANCES', 'OUTBOX', 'NEXT TIMEOUT', ...(leased ? ['ROLE', 'ACTIVE PROCESS'] : [])],
    sagas.map((w) => [
      w.name,
      cell(w.activeInstances),
      cell(w.outboxPending),
      cell(w.nextTimeoutAt),
      ...(leased
        ? [cell(w.lease?.role), w.lease?.active ? `${w.lease.active.host} pid ${w.lease.active.pid}` : '-']
        : []),
    ]),
  );
}

function workerTable(rows: readonly WorkerStatus[]): string {
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
    'WAITING',
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
    cell(w.waiting),
    `${w.stream}/${w.consumer}`,
  ]);
  return table(head, body);
}

function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return `${[line(head), ...body.map(line)].join('\n')}\n`;
}

function notesOf(rows: readonly WorkerStatus[]): string {
  const notes = rows.flatMap((w) => [
    ...(w.detail ? [`${w.name}: ${w.detail}`] : []),
    ...w.gaps.map(
      (g) =>
        `${w.name}: GAP, messages ${g.from}..${g.to} were dropped by the stream before they were applied`,
    ),
  ]);
  return notes.length ? `\n${notes.join('\n')}\n` : '';
}
