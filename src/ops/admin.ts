/**
 * Operator commands on workers that may or may not be running: each asks the running worker over
 * the control plane first (src/nats/control.ts) and, when none answers, does the same on SQLite itself.
 * The CLI only parses arguments and prints what these return.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ResolvedConfig } from '../config/config.js';
import type { ProjectionDefinition, ProsaEvent } from '../define/projection.js';
import type { SagaDefinition } from '../define/saga.js';
import { createProjectionEngine, type OutOfOrderOutcome, type Released } from '../engine/projectionEngine.js';
import { createSagaEngine } from '../engine/sagaEngine.js';
import { ProsaError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type ControlSender, encodeMessages, sendControl } from '../nats/control.js';
import { createDeadLetterDispatcher } from '../nats/deadLetterDispatcher.js';
import { moveCheckpoint } from '../store/checkpoints.js';
import type { SqliteDatabase } from '../store/database.js';
import {
  createDeadLetterOutbox,
  markDeadLetterSkipped,
  readDeadLetterResolution,
  retryRecorder,
  unresolvedDeadLetterSeqs,
} from '../store/deadLetters.js';
import { listOutbox, type OutboxEntry } from '../store/outbox.js';
import { clearPause, recordPause } from '../store/pauses.js';
import { listSagaInstances } from '../store/sagaInstances.js';
import { recordSkip } from '../store/skips.js';
import { cancelTimer, listPendingTimers } from '../store/timers.js';
import { blockingSeqs, countWaitingBehind } from '../store/waiting.js';
import { workerHeldElsewhere } from '../store/workers.js';
import { type Clock, isoNow } from '../time/clock.js';
import {
  type DeadLetterEntry,
  listDeadLetters,
  purgeDeadLetters,
  removeFromDlq,
  retryable,
} from './deadLetters.js';

export interface AdminContext {
  config: ResolvedConfig;
  db: SqliteDatabase;
  nc: NatsConnection | undefined;
  js: JetStreamClient | undefined;
  jsm: JetStreamManager | undefined;
  log: Logger;
  /** Where the times of pauses, resets and cancellations come from. */
  clock: Clock;
  /**
   * How commands reach a running worker. @default sendControl over `nc` (the console of
   * `prosa run` passes its own control handler, so it does not ask itself over NATS)
   */
  control?: ControlSender;
}

/** The way to a running worker, or none without NATS (then SQLite is changed directly). */
function controlOf(c: AdminContext): ControlSender | undefined {
  if (c.control) return c.control;
  const { nc } = c;
  return nc
    ? (worker, command, body, timeoutMs) => sendControl(nc, worker, command, body, timeoutMs)
    : undefined;
}

type Found =
  | { kind: 'projection'; definition: ProjectionDefinition<ProsaEvent, string> }
  | { kind: 'saga'; definition: SagaDefinition<ProsaEvent, string, string> };

/** The projection or saga of that name (or whose durable consumer has that name). */
export function findWorker(config: ResolvedConfig, name: string): Found {
  const byName = (n: string) => n === name || config.workers[n]?.consumer === name;
  const projection = config.projections.find((p) => byName(p.name));
  if (projection) return { kind: 'projection', definition: projection };
  const saga = config.sagas.find((s) => byName(s.name));
  if (saga) return { kind: 'saga', definition: saga };
  const known = [...config.projections, ...config.sagas].map((d) => d.name);
  throw new ProsaError(
    'PROSA_NOT_FOUND',
    `no projection or saga named "${name}" in the config (known: ${known.join(', ') || 'none'})`,
  );
}

const needNats = (c: AdminContext) => {
  if (!c.nc || !c.js || !c.jsm) {
    throw new ProsaError(
      'PROSA_NATS_UNREACHABLE',
      'this command needs NATS: set NATS_URL, or start the embedded server with `npm start`',
    );
  }
  return { nc: c.nc, js: c.js, jsm: c.jsm };
};

/** What a command did, and whether a running worker did it. */
export interface AdminResult {
  worker: string;
  /** `running worker` when a worker answered, `sqlite` when none runs and SQLite was changed directly. */
  via: 'running worker' | 'sqlite';
  detail: string;
}

/**
 * A change written straight to SQLite would not reach a worker that runs in another process (its
 * memory keeps the old state): when that worker did not answer on the control subject, refuse.
 */
function refuseUnderRunningWorker(c: AdminContext, worker: string, what: string): void {
  const pid = workerHeldElsewhere(c.db, worker, c.clock);
  if (pid === undefined) return;
  throw new ProsaError(
    'PROSA_WORKER_RUNNING',
    `cannot ${what}: ${worker} runs in process ${pid} but did not answer on the control subject (${c.nc ? 'no reply' : 'NATS not reachable from here'}); try again when NATS is reachable, or stop that process first`,
  );
}

async function ask(
  c: AdminContext,
  worker: string,
  command: 'pause' | 'resume',
  body: Record<string, unknown> = {},
): Promise<boolean> {
  const send = controlOf(c);
  if (!send) return false;
  const reply = await send(worker, command, body);
  if (!reply) return false;
  if (!reply.ok) throw new ProsaError('PROSA_NOT_FOUND', `${worker}: ${reply.error}`);
  return true;
}

export async function pauseWorker(
  c: AdminContext,
  name: string,
  reason = 'paused by an operator',
): Promise<AdminResult> {
  const { definition } = findWorker(c.config, name);
  if (await ask(c, definition.name, 'pause', { reason }))
    return { worker: definition.name, via: 'running worker', detail: 'paused' };
  refuseUnderRunningWorker(c, definition.name, 'pause it');
  recordPause(c.db, definition.name, { reason, byPid: null }, isoNow(c.clock));
  return { worker: definition.name, via: 'sqlite', detail: 'will stay paused when it starts' };
}

export async function resumeWorker(c: AdminContext, name: string): Promise<AdminResult> {
  const { definition } = findWorker(c.config, name);
  clearPause(c.db, definition.name);
  if (await ask(c, definition.name, 'resume'))
    return { worker: definition.name, via: 'running worker', detail: 'resumed' };
  refuseUnderRunningWorker(c, definition.name, 'resume it');
  return { worker: definition.name, via: 'sqlite', detail: 'will run when it starts' };
}

/**
 * Asks the process that holds a saga's lease to give it up at once (after the dispatch under way),
 * so a standby takes over on its next look instead of after the time to live.
 */
export async function handoverSaga(c: AdminContext, name: string): Promise<AdminResult> {
  const found = findWorker(c.config, name);
  if (found.kind !== 'saga')
    throw new ProsaError('PROSA_NOT_FOUND', `${name} is a projection: only a saga has a lease to hand over`);
  const saga = found.definition.name;
  // Only the holder answers: a timeout means no process holds it.
  const reply = c.control
    ? await c.control(saga, 'handover', {}, 5_000)
    : await sendControl(needNats(c).nc, saga, 'handover', {}, 5_000, true);
  if (!reply)
    throw new ProsaError(
      'PROSA_NOT_FOUND',
      `no running process holds the lease of ${saga}: start one with \`prosa run\` (a standby takes it within its lease time)`,
    );
  if (!reply.ok) throw new ProsaError('PROSA_NOT_FOUND', `${saga}: ${reply.error}`);
  const from = reply.result as { host: string; pid: number };
  return { worker: saga, via: 'running worker', detail: `lease released by ${from.host} pid ${from.pid}` };
}

/** Moves a saga's checkpoint back (or forward): it consumes again from `toSeq + 1`. Commands already emitted are not emitted again (their ids repeat). */
export async function resetSaga(c: AdminContext, name: string, toSeq: number): Promise<AdminResult> {
  const found = findWorker(c.config, name);
  if (found.kind !== 'saga') {
    throw new ProsaError(
      'PROSA_NOT_FOUND',
      `${name} is a projection: a projection cannot be rewound in place; rebuild it with \`prosa rebuild ${name}\``,
    );
  }
  if (!Number.isInteger(toSeq) || toSeq < 0)
    throw new ProsaError(
      'PROSA_CONFIG_INVALID',
      `--to-seq must be a stream sequence (0 or more), got ${toSeq}`,
    );
  const saga = found.definition.name;
  const running = await ask(c, saga, 'pause', { reason: `reset to ${toSeq}`, byPid: process.pid });
  if (!running) refuseUnderRunningWorker(c, saga, 'move its checkpoint');
  try {
    moveCheckpoint(c.db, saga, toSeq, isoNow(c.clock));
  } finally {
    if (running) await ask(c, saga, 'resume');
  }
  return {
    worker: saga,
    via: running ? 'running worker' : 'sqlite',
    detail: `consumes again from ${toSeq + 1}`,
  };
}

/** Tells a stopped worker (onError: stop) to step over a bad message: it is dead-lettered and the worker goes on. */
export async function skipMessage(c: AdminContext, name: string, seq: number): Promise<AdminResult> {
  const { definition } = findWorker(c.config, name);
  recordSkip(
    c.db,
    definition.name,
    seq,
    `skipped by an operator (prosa skip ${definition.name} --seq ${seq})`,
  );
  const running = await ask(c, definition.name, 'resume');
  return {
    worker: definition.name,
    via: running ? 'running worker' : 'sqlite',
    detail: `message ${seq} will be dead-lettered and stepped over`,
  };
}

/** The dead letters in the DLQ stream, each with how many events wait behind it (in this database). */
export async function deadLetters(c: AdminContext, consumer?: string): Promise<DeadLetterEntry[]> {
  const { js, jsm } = needNats(c);
  const entries = await listDeadLetters(js, jsm, consumer);
  const counts = new Map<string, Map<number, number>>();
  for (const e of entries) {
    let behind = counts.get(e.consumer);
    if (!behind) {
      const known = [...c.config.projections, ...c.config.sagas].find(
        (d) => (c.config.workers[d.name]?.consumer ?? d.name) === e.consumer,
      );
      behind = known ? countWaitingBehind(c.db, known.name) : new Map();
      counts.set(e.consumer, behind);
    }
    e.waiting = behind.get(e.seq) ?? 0;
  }
  return entries;
}

/**
 * Gives up on all of a consumer's dead letters: those that events wait behind are skipped first (what
 * waited applies in order, as after \`dlq skip\`), then the DLQ stream is purged and the rest marked purged.
 */
export async function purgeDeadLettersOf(c: AdminContext, consumer: string): Promise<number> {
  const { jsm } = needNats(c);
  const found = findWorker(c.config, consumer);
  const worker = found.definition.name;
  // A skip may release an event that fails and parks its entities again, behind a new letter.
  for (;;) {
    const blocking = blockingSeqs(c.db, worker);
    const next = unresolvedDeadLetterSeqs(c.db, worker).filter((seq) => blocking.has(seq));
    if (next.length === 0) break;
    for (const seq of next) await skipOne(c, found, seq);
  }
  return purgeDeadLetters(jsm, c.db, c.config.workers[worker]?.consumer ?? worker, worker, c.clock);
}

/** Feeds dead letters again to their worker (the running one, or here when none runs). */
export async function retryDeadLetters(
  c: AdminContext,
  consumer: string,
  seq?: number,
): Promise<{ via: AdminResult['via']; outcomes: OutOfOrderOutcome[] }> {
  const { js, jsm } = needNats(c);
  const send = controlOf(c) as ControlSender;
  const found = findWorker(c.config, consumer);
  const worker = found.definition.name;
  const durable = c.config.workers[worker]?.consumer ?? worker;
  const entries = (await listDeadLetters(js, jsm, durable)).filter((e) => seq === undefined || e.seq === seq);
  if (seq !== undefined && entries.length === 0)
    throw new ProsaError(
      'PROSA_NOT_FOUND',
      `no dead letter of ${durable} has stream sequence ${seq} (see \`prosa dlq ls --consumer ${durable}\`)`,
    );
  const messages = retryable(c.db, worker, entries);
  if (messages.length === 0) return { via: 'sqlite', outcomes: [] };
  let outcomes: OutOfOrderOutcome[];
  let via: AdminResult['via'] = 'running worker';
  const reply = await send(worker, 'retry', { messages: encodeMessages(messages) }, 60_000);
  if (reply) {
    if (!reply.ok) throw new ProsaError('PROSA_NOT_FOUND', `${worker}: ${reply.error}`);
    outcomes = reply.result as OutOfOrderOutcome[];
  } else {
    refuseUnderRunningWorker(c, worker, 'retry its dead letters');
    via = 'sqlite';
    const stream = found.definition.source.stream;
    const engine = engineHere(c, found);
    outcomes = engine.applyOutOfOrder(messages, retryRecorder(c.db, worker, stream, c.clock));
    engine.close();
    await publishDeadLetters(c, worker, durable);
  }
  await removeFromDlq(jsm, entries, outcomes);
  return { via, outcomes };
}

/** The engine of a worker that does not run, on this database: the code that runs now. */
function engineHere(c: AdminContext, found: Found) {
  const options = c.config.workers[found.definition.name];
  const common = {
    stream: found.definition.source.stream,
    clock: c.clock,
    ...(options ? { deadLetters: options.deadLetters } : {}),
  };
  return found.kind === 'projection'
    ? createProjectionEngine(found.definition, c.db, common)
    : createSagaEngine(found.definition, c.db, { ...common, timeouts: options?.timeouts ?? {} });
}

/** New (or failed-again) dead letters go to the DLQ stream now, not at the worker's next start. */
async function publishDeadLetters(c: AdminContext, worker: string, durable: string): Promise<void> {
  if (!c.js) return;
  const dispatcher = createDeadLetterDispatcher({
    js: c.js,
    consumer: durable,
    log: c.log,
    clock: c.clock,
    letters: createDeadLetterOutbox(c.db, worker),
  });
  await Promise.race([dispatcher.kick(), new Promise((r) => setTimeout(r, 10_000))]);
  dispatcher.close();
}

/**
 * Gives up on a dead letter (resolution 'skipped', it leaves the DLQ stream): the events that
 * waited behind it apply in stream order, by the running worker or here when none runs.
 */
export async function skipDeadLetter(
  c: AdminContext,
  consumer: string,
  seq: number,
): Promise<{ worker: string; via: AdminResult['via']; seq: number; released: Released }> {
  const found = findWorker(c.config, consumer);
  const worker = found.definition.name;
  const durable = c.config.workers[worker]?.consumer ?? worker;
  const resolution = readDeadLetterResolution(c.db, worker, seq);
  if (resolution === undefined || resolution === 'retried' || resolution === 'skipped') {
    throw new ProsaError(
      'PROSA_NOT_FOUND',
      resolution === undefined
        ? `no dead letter of ${worker} has stream sequence ${seq} (see \`prosa dlq ls --consumer ${durable}\`)`
        : `dead letter ${seq} of ${worker} is already ${resolution}`,
    );
  }
  const { via, released } = await skipOne(c, found, seq);
  if (c.js && c.jsm) {
    const entries = (await listDeadLetters(c.js, c.jsm, durable)).filter((e) => e.seq === seq);
    await removeFromDlq(c.jsm, entries, [{ seq, applied: true }]);
  }
  return { worker, via, seq, released };
}

/** Skips one dead letter by the running worker, or here when none runs; the DLQ stream is left as it is. */
async function skipOne(
  c: AdminContext,
  found: Found,
  seq: number,
): Promise<{ via: AdminResult['via']; released: Released }> {
  const worker = found.definition.name;
  const send = controlOf(c);
  const reply = send ? await send(worker, 'skip', { seq }, 60_000) : undefined;
  if (reply) {
    if (!reply.ok) throw new ProsaError('PROSA_NOT_FOUND', `${worker}: ${reply.error}`);
    return { via: 'running worker', released: reply.result as Released };
  }
  refuseUnderRunningWorker(c, worker, `skip dead letter ${seq}`);
  const engine = engineHere(c, found);
  const released = engine.skipDeadLetter(seq, () =>
    markDeadLetterSkipped(c.db, worker, seq, isoNow(c.clock)),
  );
  engine.close();
  await publishDeadLetters(c, worker, c.config.workers[worker]?.consumer ?? worker);
  return { via: 'sqlite', released };
}

export interface SagaInstanceView {
  instance: string;
  state: unknown;
  updatedAt: string;
  timeouts: { name: string; dueAt: string; timerId: string }[];
}

export function sagaInstances(c: AdminContext, saga: string): SagaInstanceView[] {
  const found = findWorker(c.config, saga);
  if (found.kind !== 'saga') throw new ProsaError('PROSA_NOT_FOUND', `${saga} is a projection, not a saga`);
  const name = found.definition.name;
  const timers = listPendingTimers(c.db, name);
  const byInstance = new Map<string, SagaInstanceView['timeouts']>();
  for (const t of timers) {
    const list = byInstance.get(t.instance) ?? [];
    list.push({ name: t.name, dueAt: new Date(t.dueAt).toISOString(), timerId: t.timerId });
    byInstance.set(t.instance, list);
  }
  return listSagaInstances(c.db, name).map((r) => ({
    instance: r.instance,
    state: JSON.parse(r.state),
    updatedAt: r.updatedAt,
    timeouts: byInstance.get(r.instance) ?? [],
  }));
}

/** A saga's commands in its outbox: not yet published first, then the newest published (until pruned). */
export function sagaOutbox(c: AdminContext, saga: string, limit = 200): OutboxEntry[] {
  const found = findWorker(c.config, saga);
  if (found.kind !== 'saga') throw new ProsaError('PROSA_NOT_FOUND', `${saga} is a projection, not a saga`);
  return listOutbox(c.db, found.definition.name, limit);
}

/** Cancels a pending timeout so it never fires (the instance stays where it is). */
export function cancelTimeout(c: AdminContext, saga: string, instance: string, timeout: string): AdminResult {
  const found = findWorker(c.config, saga);
  if (found.kind !== 'saga') throw new ProsaError('PROSA_NOT_FOUND', `${saga} is a projection, not a saga`);
  const name = found.definition.name;
  if (!cancelTimer(c.db, name, instance, timeout, c.clock.now())) {
    throw new ProsaError(
      'PROSA_NOT_FOUND',
      `${name}: instance ${instance} has no pending timeout named "${timeout}" (see \`prosa sagas ls ${name}\`)`,
    );
  }
  return { worker: name, via: 'sqlite', detail: `timeout ${timeout} of ${instance} cancelled` };
}
