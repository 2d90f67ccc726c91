/**
 * checkProjection: proves a projection replay-safe with fast-check. For event sequences from an
 * arbitrary, it runs the projection through the real engine (`replay`: the batch, commit,
 * checkpoint, skip and passivation code `prosa run` uses) under arbitrary batch boundaries,
 * redeliveries, crashes before and after a commit and a live-actor cap of 1..n, and checks that
 * the read model equals the one a single clean pass gives, and, when given, the user's reference
 * fold. A failure throws a {@link ProjectionCheckError} that tells a person the shrunk events, the
 * schedule in words, and the rows that differ.
 *
 * How each fault is caught:
 * - state kept outside the actor (module-level variables) sees the events of a batch that crashed
 *   before its commit twice, and a later run sees what an earlier one left;
 * - a snapshot that does not capture the state (a Map, Set, class instance or closure in the
 *   context) loses it when an actor is passivated or the worker restarts;
 * - a row that reads another entity's state depends on how events of different keys fall into
 *   batches, since rows are written at each commit;
 * - a fold that reads the wall clock or randomness: the faulted run sees the clock moved on by a
 *   day, and a second clean pass tells a non-deterministic fold from a schedule-dependent one.
 *
 * With `nats`, the same property runs end to end: a real nats-server, the real runtime
 * (`createRuntime`), restarted at arbitrary points with arbitrary batch sizes and actor caps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  StorageType,
} from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { isUuid } from '../cim/envelope.js';
import type { ProjectionDefinition, ProsaEvent, RawEvent } from '../define/projection.js';
import { silentLogger } from '../logger.js';
import { spawnNatsServer } from '../nats/natsServerProcess.js';
import { createRuntime } from '../runtime/runtime.js';
import { quoteIdent, type SqliteDatabase } from '../store/database.js';
import {
  cleanReplay,
  type DeliveryStep,
  type ReplayResult,
  type ReplayTraceEntry,
  replay,
  replayTraceOf,
} from './replay.js';

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/** A message of the stream under test, as published; `seq` only where the stream sequence matters. */
export interface StreamMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** The stream sequence (ascending). @default the previous message's + 1, the first's 1 */
  readonly seq?: number;
}

/**
 * What a reference fold returns: for some of the projection's tables, the rows it expects, as an
 * array or as a Map by key. Rows are matched by the table's primary key; only the columns a
 * reference row names are compared (leave out bookkeeping columns). A JSON column is given as its
 * value (object, array, string, number, boolean) and compared with the JSON text in SQLite by
 * value, key order aside; a boolean also matches 0/1.
 */
export type ReferenceModel = { readonly [table: string]: Iterable<object> };

/** How adversarial each run's delivery schedule may be. */
export interface ScheduleOptions {
  /** Each run caps live actors at 1..maxActors, so actors are passivated and restored. @default 8 */
  maxActors?: number;
  /** The largest batch a step delivers. @default 10 */
  maxBatchSize?: number;
  /** The most messages a batch redelivers from before its start. @default 6 */
  maxRedelivered?: number;
  /** The most steps (batches, crashes, passivations) before the rest is delivered. @default 30 */
  maxSteps?: number;
}

/** fast-check's run parameters. */
export interface RunOptions {
  /** Runs (event sequences × schedules). @default 200 in memory, 10 against a nats-server */
  numRuns?: number;
  /** The random seed; a failure prints the one it used. @default random */
  seed?: number;
  /** With `seed`: replays only the counterexample a failure printed. */
  path?: string;
}

/**
 * Runs the property against a real nats-server with the real runtime: `url` of a scratch server
 * (the projection's stream is deleted and recreated for every run), or `startServer: true` to
 * start one for the check (the `nats-server` binary on PATH or `NATS_SERVER_BIN`).
 */
export type NatsCheckOptions = { url: string; startServer?: never } | { startServer: true; url?: never };

export interface CheckProjectionOptions<E extends ProsaEvent = ProsaEvent>
  extends ScheduleOptions,
    RunOptions {
  /**
   * The event sequences to try, in stream order: your arbitrary, or one of the kit's
   * (`arbitraries.cim.infrastructureEvents()`). Messages that do not decode are dead letters,
   * and must be so in every run.
   */
  events: fc.Arbitrary<readonly StreamMessage[]>;
  /** A plain fold of the decoded events (in stream order) to the rows you expect. */
  reference?: (events: readonly E[]) => ReferenceModel;
  /**
   * Whether an event may be dead-lettered. `false` for arbitraries of valid events only: a dead
   * letter in the clean pass then fails the check with its reason.
   * @default true
   */
  allowDeadLetters?: boolean;
  /** One event in words for a failure report. @default its type, entities and a short payload */
  describeEvent?: (event: E) => string;
  /** Run end to end against a real nats-server instead of in memory (fewer, slower runs). */
  nats?: NatsCheckOptions;
}

const defaults = {
  maxActors: 8,
  maxBatchSize: 10,
  maxRedelivered: 6,
  maxSteps: 30,
  numRuns: 200,
  numRunsOverNats: 10,
} as const;

/** A failed check: `message` is the report; the fields are there for tools. */
export class ProjectionCheckError extends Error {
  override readonly name = 'ProjectionCheckError';
  constructor(
    message: string,
    /** The seed and path that replay the counterexample (`{ seed, path }` in the options). */
    readonly replay: { seed: number; path: string | null },
    /** The shrunk events, as RawEvents. */
    readonly events: readonly RawEvent[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// ---------------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------------

/**
 * Proves a projection replay-safe: for events from `options.events`, any batching, redelivery,
 * crash-and-restart point and passivation pressure gives the read model of one clean pass (and
 * of `options.reference`, when given). Throws {@link ProjectionCheckError} with the shrunk
 * counterexample in words; returns quietly otherwise.
 *
 * In memory it is synchronous; with `nats` it returns a promise.
 *
 * @example
 * it('is replay-safe', () =>
 *   checkProjection(people, { events: personEvents(), reference: referencePeople }));
 */
export function checkProjection<E extends ProsaEvent, K extends string>(
  projection: ProjectionDefinition<E, K>,
  options: CheckProjectionOptions<E> & { nats?: undefined },
): void;
export function checkProjection<E extends ProsaEvent, K extends string>(
  projection: ProjectionDefinition<E, K>,
  options: CheckProjectionOptions<E> & { nats: NatsCheckOptions },
): Promise<void>;
export function checkProjection<E extends ProsaEvent, K extends string>(
  projection: ProjectionDefinition<E, K>,
  options: CheckProjectionOptions<E>,
): void | Promise<void> {
  const definition = projection as unknown as ProjectionDefinition<ProsaEvent, string>;
  const o = options as unknown as CheckProjectionOptions<ProsaEvent>;
  if (o.nats) return checkOverNats(definition, o, o.nats);
  const tables = tablesOf(definition);
  const property = fc.property(o.events, scheduleArb(o), (events, schedule) => {
    const messages = numbered(events);
    const failure = runInMemory(definition, tables, o, messages, schedule);
    if (failure) throw failure;
  });
  const details = fc.check(property, runParameters(o, defaults.numRuns));
  if (!details.failed) return;
  const error = details.errorInstance;
  const reduced =
    error instanceof RunFailure && details.counterexample
      ? reduce(definition, tables, o, error, (details.counterexample as [unknown, Schedule])[1])
      : undefined;
  throw reportFailure(definition, o, details, reduced);
}

/**
 * fast-check shrinks events and schedule one after the other and can stop in a local minimum (a
 * smaller event list no longer lines up with the batch sizes). This finishes the job on the
 * failing case itself: drop events, drop steps, make batches smaller and the actor cap larger, for
 * as long as it still fails.
 */
function reduce(
  definition: ProjectionDefinition<ProsaEvent, string>,
  tables: readonly TableSpec[],
  o: CheckProjectionOptions<ProsaEvent>,
  failure: RunFailure,
  schedule: Schedule,
): RunFailure {
  const first = failure.failure.run.messages;
  // Counted 1, 2, 3...: keep counting so after dropping some; given sequences stay as they were.
  const renumber = first.every((m, i) => m.seq === i + 1);
  const maxActors = Math.max(1, o.maxActors ?? defaults.maxActors);
  let best = { messages: first, schedule, failure };
  let budget = 3_000;
  const attempt = (messages: RawEvent[], candidate: Schedule): boolean => {
    if (budget-- <= 0) return false;
    const ms = renumber ? messages.map((m, i) => ({ ...m, seq: i + 1 })) : messages;
    const f = runInMemory(definition, tables, o, ms, candidate);
    if (!f) return false;
    best = { messages: ms, schedule: candidate, failure: f };
    return true;
  };
  const withSteps = (steps: DeliveryStep[]): Schedule => ({ ...best.schedule, steps });
  for (let progress = true; progress && budget > 0; ) {
    progress = false;
    for (let i = best.messages.length - 1; i >= 0; i--) {
      const fewer = best.messages.filter((_, j) => j !== i);
      // As is, or with the steps that delivered it one smaller, so what follows lines up as before.
      if (attempt(fewer, best.schedule) || attempt(fewer, scheduleWithout(best.schedule, i))) progress = true;
    }
    for (let i = best.schedule.steps.length - 1; i >= 0; i--) {
      if (attempt(best.messages, withSteps(best.schedule.steps.filter((_, j) => j !== i)))) progress = true;
    }
    for (let i = 0; i < best.schedule.steps.length; i++) {
      const step = best.schedule.steps[i] as DeliveryStep;
      const simpler: DeliveryStep[] = [];
      if (step.kind === 'batch' && (step.redeliver ?? 0) > 0) simpler.push({ ...step, redeliver: 0 });
      if (step.kind !== 'passivate' && step.size > 1) simpler.push({ ...step, size: step.size - 1 });
      for (const s of simpler) {
        const steps = [...best.schedule.steps];
        steps[i] = s;
        if (attempt(best.messages, withSteps(steps))) progress = true;
      }
    }
    if (best.schedule.restBatchSize > 1 && attempt(best.messages, { ...best.schedule, restBatchSize: 1 }))
      progress = true;
    if (best.schedule.maxActors < maxActors && attempt(best.messages, { ...best.schedule, maxActors }))
      progress = true;
  }
  return best.failure;
}

/** The schedule with every step that delivers message `index` (0-based) one message smaller. */
function scheduleWithout(schedule: Schedule, index: number): Schedule {
  let position = 0;
  const steps: DeliveryStep[] = [];
  for (const step of schedule.steps) {
    if (step.kind === 'passivate') {
      steps.push(step);
      continue;
    }
    const covers = index >= position && index < position + step.size;
    // A crash before the commit leaves the position where it was: its messages come again.
    if (step.kind !== 'crash-before-commit') position += step.size;
    if (!covers) steps.push(step);
    else if (step.size > 1) steps.push({ ...step, size: step.size - 1 });
  }
  return { ...schedule, steps };
}

interface Schedule {
  steps: DeliveryStep[];
  restBatchSize: number;
  maxActors: number;
}

function scheduleArb(o: ScheduleOptions): fc.Arbitrary<Schedule> {
  const maxActors = Math.max(1, o.maxActors ?? defaults.maxActors);
  const maxSize = Math.max(1, o.maxBatchSize ?? defaults.maxBatchSize);
  // Small batches most of the time: commits between events of different keys find more.
  const size = fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 1, max: Math.min(3, maxSize) }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: maxSize }) },
  );
  const step: fc.Arbitrary<DeliveryStep> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('batch' as const),
        size,
        redeliver: fc.integer({ min: 0, max: Math.max(0, o.maxRedelivered ?? defaults.maxRedelivered) }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash-before-commit' as const), size }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash-after-commit' as const), size }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'passivate' as const }) },
  );
  return fc.record({
    steps: fc.array(step, { maxLength: Math.max(0, o.maxSteps ?? defaults.maxSteps) }),
    restBatchSize: size,
    // Shrinks towards the largest cap (the least pressure), so a counterexample keeps a small
    // cap only when passivation is what breaks it.
    maxActors: fc.integer({ min: 1, max: maxActors }).map((n) => maxActors + 1 - n),
  });
}

function runParameters(o: RunOptions, numRuns: number): fc.Parameters<unknown> {
  const p: fc.Parameters<unknown> = { numRuns: o.numRuns ?? numRuns };
  if (o.seed !== undefined) p.seed = o.seed;
  if (o.path !== undefined) p.path = o.path;
  return p;
}

/** Thrown from inside a run for a mistake in the options or the events (not a property failure). */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The messages with their stream sequences: given ones kept, missing ones counted on. */
function numbered(messages: readonly StreamMessage[]): RawEvent[] {
  let previous = 0;
  return messages.map((m, i) => {
    const seq = m.seq ?? previous + 1;
    if (!Number.isInteger(seq) || seq <= previous) {
      throw new UsageError(
        `checkProjection: events[${i}] has stream sequence ${seq} after ${previous}; sequences must be positive integers and ascending (leave seq out to number them 1, 2, ...)`,
      );
    }
    previous = seq;
    return { subject: m.subject, seq, data: m.data };
  });
}

// ---------------------------------------------------------------------------------------------
// One in-memory run
// ---------------------------------------------------------------------------------------------

/** Why a run failed, as plain data (the databases are closed by then), rendered at the end. */
type Failure =
  | { kind: 'nondeterministic'; run: RunFacts; differences: Difference[] }
  | { kind: 'schedule'; run: RunFacts; differences: Difference[] }
  | { kind: 'reference'; run: RunFacts; differences: Difference[] }
  | { kind: 'threw'; run: RunFacts; during: string; error: unknown }
  | { kind: 'dead-lettered'; run: RunFacts; differences: Difference[] };

/** What a report needs to know of the run. */
interface RunFacts {
  messages: RawEvent[];
  maxActors: number;
  /** The faulted run's steps; for runs over NATS, the segments in words. */
  trace: ReplayTraceEntry[] | string[];
}

class RunFailure extends Error {
  constructor(readonly failure: Failure) {
    super(`checkProjection: ${failure.kind}`);
  }
}

const CLOCK_SHIFT_MS = 86_400_000 + 12_345;

function runInMemory(
  definition: ProjectionDefinition<ProsaEvent, string>,
  tables: readonly TableSpec[],
  o: CheckProjectionOptions<ProsaEvent>,
  messages: RawEvent[],
  schedule: Schedule,
): RunFailure | undefined {
  const run: RunFacts = { messages, maxActors: schedule.maxActors, trace: [] };
  const opened: SqliteDatabase[] = [];
  const attempt = <T extends ReplayResult>(during: string, go: () => T): T | RunFailure => {
    try {
      const result = go();
      opened.push(result.db);
      return result;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      if (during === 'the run under this schedule') run.trace = replayTraceOf(error) ?? [];
      return new RunFailure({ kind: 'threw', run, during, error });
    }
  };
  try {
    const clean = attempt('the clean pass', () => cleanReplay(definition, messages));
    if (clean instanceof RunFailure) return clean;
    const expected = modelOf(clean, tables);
    const last = messages[messages.length - 1]?.seq ?? 0;
    if (expected.checkpoint !== last) {
      const error = new Error(
        `it stopped at checkpoint ${expected.checkpoint}, before the last message #${last}`,
      );
      return new RunFailure({ kind: 'threw', run, during: 'the clean pass', error });
    }
    if (o.allowDeadLetters === false && expected.deadLetters.size > 0) {
      const differences: Difference[] = [...expected.deadLetters].map(([seq, reason]) => ({
        kind: 'dead-letter',
        seq,
        expected: undefined,
        got: reason,
      }));
      return new RunFailure({ kind: 'dead-lettered', run, differences });
    }

    /** A second clean pass with the clock moved on: tells a non-deterministic fold apart. */
    const nondeterminism = (): RunFailure | undefined => {
      const again = attempt('a second clean pass', () =>
        withShiftedClock(() => cleanReplay(definition, messages)),
      );
      if (again instanceof RunFailure) return again;
      const differences = compareModels(expected, modelOf(again, tables));
      return differences.length > 0
        ? new RunFailure({ kind: 'nondeterministic', run, differences })
        : undefined;
    };

    if (o.reference) {
      const differences = compareWithReference(o.reference, definition, messages, expected, tables);
      if (differences.length > 0)
        return nondeterminism() ?? new RunFailure({ kind: 'reference', run, differences });
    }

    const faulted = attempt('the run under this schedule', () =>
      withShiftedClock(() =>
        replay(definition, messages, {
          steps: schedule.steps,
          restBatchSize: schedule.restBatchSize,
          maxActors: schedule.maxActors,
        }),
      ),
    );
    if (faulted instanceof RunFailure) return faulted;
    run.trace = faulted.trace;
    const differences = compareModels(expected, modelOf(faulted, tables));
    if (differences.length > 0)
      return nondeterminism() ?? new RunFailure({ kind: 'schedule', run, differences });
    return undefined;
  } finally {
    for (const db of opened) db.close();
  }
}

/**
 * Runs `go` with `Date` (and `Date.now`) a day ahead: a fold that reads the wall clock then gives
 * other rows than in the clean pass. Restored in any case.
 */
function withShiftedClock<T>(go: () => T): T {
  const RealDate = globalThis.Date;
  const now = () => RealDate.now() + CLOCK_SHIFT_MS;
  globalThis.Date = new Proxy(RealDate, {
    construct: (target, args, newTarget) =>
      Reflect.construct(target, args.length === 0 ? [now()] : args, newTarget),
    apply: () => new RealDate(now()).toString(),
    get: (target, property, receiver) => (property === 'now' ? now : Reflect.get(target, property, receiver)),
  });
  try {
    return go();
  } finally {
    globalThis.Date = RealDate;
  }
}

// ---------------------------------------------------------------------------------------------
// Read models and their differences
// ---------------------------------------------------------------------------------------------

interface TableSpec {
  table: string;
  primaryKey: string;
}

/** The tables of the projection's entities (each once), with their primary keys. */
function tablesOf(definition: ProjectionDefinition<ProsaEvent, string>): TableSpec[] {
  const specs = new Map<string, TableSpec>();
  for (const entity of Object.values(definition.entities)) {
    if (!specs.has(entity.table))
      specs.set(entity.table, { table: entity.table, primaryKey: entity.primaryKey ?? 'id' });
  }
  return [...specs.values()];
}

type Rows = Map<string, Record<string, unknown>>;

/** Everything a run leaves that must not depend on the schedule. */
interface Model {
  tables: Map<string, Rows>;
  /** Dead letters by stream sequence: their reasons. */
  deadLetters: Map<number, string>;
  checkpoint: number;
}

function modelOf(result: ReplayResult, tables: readonly TableSpec[]): Model {
  return {
    tables: readTables(result.db, tables),
    deadLetters: new Map(result.deadLetters.map((d) => [d.seq, d.reason])),
    checkpoint: result.checkpoint,
  };
}

function readTables(db: Pick<SqliteDatabase, 'prepare'>, tables: readonly TableSpec[]): Map<string, Rows> {
  const model = new Map<string, Rows>();
  for (const { table, primaryKey } of tables) {
    const rows = db
      .prepare(`SELECT * FROM ${quoteIdent(table)} ORDER BY ${quoteIdent(primaryKey)}`)
      .all() as Record<string, unknown>[];
    model.set(table, new Map(rows.map((r) => [String(r[primaryKey]), r])));
  }
  return model;
}

type Difference =
  | { kind: 'missing-row'; table: string; key: string; expected: Record<string, unknown> }
  | { kind: 'extra-row'; table: string; key: string; got: Record<string, unknown> }
  | { kind: 'column'; table: string; key: string; column: string; expected: unknown; got: unknown }
  | { kind: 'dead-letter'; seq: number; expected: string | undefined; got: string | undefined }
  | { kind: 'checkpoint'; expected: number; got: number };

const sameSqlValue = (a: unknown, b: unknown): boolean =>
  a === b ||
  (a instanceof Uint8Array && b instanceof Uint8Array && Buffer.compare(a, b) === 0) ||
  (typeof a === 'bigint' || typeof b === 'bigint' ? safeBigInt(a) === safeBigInt(b) : false);

const safeBigInt = (v: unknown): bigint | undefined => {
  try {
    return typeof v === 'number' || typeof v === 'bigint' ? BigInt(v) : undefined;
  } catch {
    return undefined;
  }
};

function compareModels(expected: Model, got: Model): Difference[] {
  const out: Difference[] = [];
  for (const [table, rows] of expected.tables) {
    const other = got.tables.get(table) ?? new Map<string, Record<string, unknown>>();
    compareRows(table, rows, other, 'all', sameSqlValue, out);
  }
  const seqs = new Set([...expected.deadLetters.keys(), ...got.deadLetters.keys()]);
  for (const seq of [...seqs].sort((a, b) => a - b)) {
    const e = expected.deadLetters.get(seq);
    const g = got.deadLetters.get(seq);
    if (e !== g) out.push({ kind: 'dead-letter', seq, expected: e, got: g });
  }
  if (expected.checkpoint !== got.checkpoint)
    out.push({ kind: 'checkpoint', expected: expected.checkpoint, got: got.checkpoint });
  return out;
}

function compareRows(
  table: string,
  expected: Rows,
  got: Rows,
  columns: 'all' | 'expected',
  same: (e: unknown, g: unknown) => boolean,
  out: Difference[],
): void {
  const keys = [...new Set([...expected.keys(), ...got.keys()])].sort();
  for (const key of keys) {
    const e = expected.get(key);
    const g = got.get(key);
    if (e && !g) out.push({ kind: 'missing-row', table, key, expected: e });
    else if (g && !e) out.push({ kind: 'extra-row', table, key, got: g });
    else if (e && g) {
      const names = columns === 'all' ? new Set([...Object.keys(e), ...Object.keys(g)]) : Object.keys(e);
      for (const column of names) {
        if (columns === 'expected' && e[column] === undefined) continue;
        if (!same(e[column], g[column]))
          out.push({ kind: 'column', table, key, column, expected: e[column], got: g[column] });
      }
    }
  }
}

function compareWithReference(
  reference: (events: readonly ProsaEvent[]) => ReferenceModel,
  definition: ProjectionDefinition<ProsaEvent, string>,
  messages: readonly RawEvent[],
  expected: Model,
  tables: readonly TableSpec[],
): Difference[] {
  const events: ProsaEvent[] = [];
  for (const m of messages) {
    if (expected.deadLetters.has(m.seq)) continue;
    try {
      events.push(definition.decode(m));
    } catch {
      // A message that does not decode is a dead letter; the reference never sees it.
    }
  }
  const model = reference(events);
  const out: Difference[] = [];
  for (const [table, rows] of Object.entries(model)) {
    const spec = tables.find((t) => t.table === table);
    if (!spec) {
      throw new UsageError(
        `checkProjection: the reference returned table "${table}", which is not a table of ${definition.name}'s entities (${tables.map((t) => t.table).join(', ')})`,
      );
    }
    const keyed: Rows = new Map();
    for (const row of rows instanceof Map ? rows.values() : rows) {
      const r = row as Record<string, unknown>;
      if (r[spec.primaryKey] === undefined || r[spec.primaryKey] === null) {
        throw new UsageError(
          `checkProjection: a reference row of table "${table}" has no primary key column "${spec.primaryKey}": ${preview(r)}`,
        );
      }
      keyed.set(String(r[spec.primaryKey]), r);
    }
    compareRows(table, keyed, expected.tables.get(table) ?? new Map(), 'expected', sameAsReference, out);
  }
  return out;
}

/**
 * A reference value against what SQLite returned: equal as SQL values, or SQLite holds JSON text of
 * it (objects and arrays always are; a JSON column's strings and numbers too), compared by value
 * with key order aside; booleans are 0/1.
 */
function sameAsReference(expected: unknown, got: unknown): boolean {
  if (typeof expected === 'boolean' && got === (expected ? 1 : 0)) return true;
  const structured = typeof expected === 'object' && expected !== null && !(expected instanceof Uint8Array);
  if (!structured && sameSqlValue(expected ?? null, got)) return true;
  if (typeof got !== 'string' || expected === undefined || expected instanceof Uint8Array) return false;
  try {
    return canonicalJson(JSON.parse(got)) === canonicalJson(expected);
  } catch {
    return false;
  }
}

/** JSON text with object keys sorted (built as text, so a key like `__proto__` stays a key). */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

// ---------------------------------------------------------------------------------------------
// The report, for a person
// ---------------------------------------------------------------------------------------------

const MAX_DIFFERENCES = 20;

function reportFailure(
  definition: ProjectionDefinition<ProsaEvent, string>,
  o: CheckProjectionOptions<ProsaEvent>,
  details: fc.RunDetails<unknown>,
  reduced?: RunFailure,
): Error {
  const error = reduced ?? details.errorInstance;
  if (error instanceof UsageError) return error;
  if (!(error instanceof RunFailure)) {
    // Interrupted, too many skips, or an error thrown by the user's arbitrary itself.
    return new Error(fc.defaultReportMessage(details as fc.RunDetails<unknown>) ?? 'checkProjection failed', {
      cause: error,
    });
  }
  const { failure } = error;
  const text = [
    headline(definition, failure),
    '',
    ...eventsSection(definition, o, failure.run),
    '',
    ...scheduleSection(definition, failure),
    '',
    ...differencesSection(failure),
    '',
    ...causeSection(definition, failure),
    '',
    `Found on run ${details.numRuns} (seed ${details.seed}); shrunk ${details.numShrinks} times${reduced ? ', then reduced' : ''}. Replay it with { seed: ${details.seed}, path: ${JSON.stringify(details.counterexamplePath)} } in the options.`,
  ].join('\n');
  return new ProjectionCheckError(
    text,
    { seed: details.seed, path: details.counterexamplePath },
    failure.run.messages,
    failure.kind === 'threw' ? { cause: failure.error } : undefined,
  );
}

function headline(definition: ProjectionDefinition<ProsaEvent, string>, f: Failure): string {
  const name = `checkProjection(${definition.name})`;
  switch (f.kind) {
    case 'nondeterministic':
      return `${name}: two clean passes over the same events give different read models; the fold is not a function of its events.`;
    case 'schedule':
      return `${name}: replaying under the schedule below (batches, redeliveries, crashes, passivation) gives another read model than one clean pass.`;
    case 'reference':
      return `${name}: a clean pass gives another read model than your reference fold.`;
    case 'dead-lettered':
      return `${name}: a clean pass dead-lettered events, and allowDeadLetters is false.`;
    case 'threw':
      return `${name}: ${f.during} threw: ${errorMessage(f.error)}`;
  }
}

function eventsSection(
  definition: ProjectionDefinition<ProsaEvent, string>,
  o: CheckProjectionOptions<ProsaEvent>,
  run: RunFacts,
): string[] {
  const lines = [`Events (${run.messages.length}; stream sequence, type, entities, payload):`];
  if (run.messages.length === 0) lines.push('  (none)');
  const described = run.messages.map((m) => describeMessage(definition, o, m));
  const seqWidth = Math.max(0, ...run.messages.map((m) => String(m.seq).length)) + 1;
  const typeWidth = Math.max(0, ...described.map((d) => (d.length > 1 ? (d[0] as string).length : 0)));
  run.messages.forEach((m, i) => {
    const [first, ...rest] = described[i] as string[];
    const text = rest.length === 0 ? first : [(first as string).padEnd(typeWidth), ...rest].join('  ');
    lines.push(`  ${`#${m.seq}`.padEnd(seqWidth)}  ${text}`);
  });
  return lines;
}

/** An event in words: `[type, entities, payload]`, or one string when it is described otherwise. */
function describeMessage(
  definition: ProjectionDefinition<ProsaEvent, string>,
  o: CheckProjectionOptions<ProsaEvent>,
  m: RawEvent,
): string[] {
  let event: ProsaEvent;
  try {
    event = definition.decode(m);
  } catch (e) {
    return [`(does not decode: ${errorMessage(e)}) on ${m.subject}`];
  }
  if (o.describeEvent) return [o.describeEvent(event)];
  let keys: readonly (readonly [string, string])[] = [];
  try {
    keys = definition.keys(event);
  } catch (e) {
    return [event.type, `(keys() threw: ${errorMessage(e)})`];
  }
  const ids = new Set(keys.map(([, id]) => id));
  const entities = keys.length === 0 ? '(no entity)' : keys.map(([k, id]) => `${k} ${id}`).join(', ');
  const payload = payloadPreview(event, ids);
  return payload ? [event.type, entities, payload] : [event.type, entities];
}

/**
 * The event's payload in short: `data` if it is an object (the CIM envelope's variant), else the
 * event without `type`; uuids and the entity ids already shown are left out.
 */
function payloadPreview(event: ProsaEvent, ids: ReadonlySet<string>): string {
  const e = event as unknown as Record<string, unknown>;
  const source =
    typeof e.data === 'object' && e.data !== null && !Array.isArray(e.data)
      ? (e.data as Record<string, unknown>)
      : e;
  const kept: string[] = [];
  for (const [k, v] of Object.entries(source)) {
    if (source === e && k === 'type') continue;
    if (isUuid(v) || (typeof v === 'string' && ids.has(v))) continue;
    kept.push(`${JSON.stringify(k)}:${safeJson(v)}`);
  }
  return kept.length === 0 ? '' : truncate(`{${kept.join(',')}}`, 140);
}

function scheduleSection(definition: ProjectionDefinition<ProsaEvent, string>, f: Failure): string[] {
  const { run } = f;
  if (f.kind === 'nondeterministic')
    return ['Schedule: none needed; each clean pass delivered every event in one batch.'];
  if (f.kind === 'reference' || f.kind === 'dead-lettered')
    return ['Schedule: none needed; the clean pass delivered every event in one batch.'];
  if (run.trace.length > 0 && typeof run.trace[0] === 'string') {
    return [
      'Schedule (real nats-server and runtime):',
      ...(run.trace as string[]).map((s, i) => `  ${i + 1}. ${s}`),
    ];
  }
  const trace = run.trace as ReplayTraceEntry[];
  if (f.kind === 'threw' && trace.length === 0)
    return [`Schedule: live actors capped at ${run.maxActors}; it threw in the first step.`];
  const entities = entityCount(definition, run.messages);
  const pressure =
    entities > run.maxActors ? ` for ${entities} entities, so actors are passivated and restored` : '';
  const lines = [`Schedule (live actors capped at ${run.maxActors}${pressure}):`];
  let n = 0;
  for (let i = 0; i < trace.length; i++) {
    const t = trace[i] as ReplayTraceEntry;
    n++;
    if (f.kind === 'threw' && i === trace.length - 1) {
      const what = t.step.kind === 'rest' || t.step.kind === 'batch' ? 'as one batch' : `(${t.step.kind})`;
      lines.push(`  ${n}. deliver ${seqList(t.delivered)} ${what}: this is where it threw`);
      break;
    }
    if (t.step.kind === 'rest' && f.kind === 'threw') {
      lines.push(`  ${n}. ${describeStep(t)}`);
      continue;
    }
    if (t.step.kind === 'rest') {
      // The batches after the plan's steps, as one line.
      const rest = trace.slice(i).filter((x) => x.step.kind === 'rest');
      const seqs = rest.flatMap((x) => x.delivered);
      const last = rest[rest.length - 1] as ReplayTraceEntry;
      const redelivered = rest.reduce((s, x) => s + x.redelivered, 0);
      lines.push(
        `  ${n}. ${n === 1 ? 'deliver' : 'then'} ${seqList(seqs)}${redelivered > 0 ? ` (${redelivered} redelivered)` : ''} in batches of ${t.step.size}, each committed and acked: checkpoint ${last.checkpoint}`,
      );
      break;
    }
    lines.push(`  ${n}. ${describeStep(t)}`);
  }
  return lines;
}

function describeStep(t: ReplayTraceEntry): string {
  const delivered = `${seqList(t.delivered)}${t.redelivered > 0 ? ` (${seqList(t.delivered.slice(0, t.redelivered))} redelivered)` : ''}`;
  switch (t.step.kind) {
    case 'batch':
      return `deliver ${delivered} as one batch, commit and ack: checkpoint ${t.checkpoint}`;
    case 'crash-before-commit':
      return `deliver ${delivered}, then the worker crashes before the commit and restarts from checkpoint ${t.checkpoint}`;
    case 'crash-after-commit':
      return `deliver ${delivered} and commit, then the worker crashes before the ack and restarts from checkpoint ${t.checkpoint}; the unacked messages come again`;
    case 'passivate':
      return 'passivate every live actor (they come back from their snapshots)';
    case 'rest':
      return `deliver ${delivered} as one batch, commit and ack: checkpoint ${t.checkpoint}`;
  }
}

/** `#1-#3, #5`: ascending runs of sequences written as ranges. */
function seqList(seqs: readonly number[]): string {
  if (seqs.length === 0) return 'nothing';
  const parts: string[] = [];
  let start = seqs[0] as number;
  let prev = start;
  for (const s of [...seqs.slice(1), Number.NaN]) {
    if (s === prev + 1) {
      prev = s;
      continue;
    }
    parts.push(start === prev ? `#${start}` : `#${start}-#${prev}`);
    start = s;
    prev = s;
  }
  return parts.join(', ');
}

function differencesSection(f: Failure): string[] {
  if (f.kind === 'threw') {
    const stack = f.error instanceof Error && f.error.stack ? f.error.stack.split('\n').slice(1, 6) : [];
    return ['Error:', `  ${errorMessage(f.error)}`, ...stack.map((l) => `  ${l.trim()}`)];
  }
  const title = {
    reference: 'What differs (expected: your reference; got: the clean pass):',
    nondeterministic: 'What differs (expected: the first clean pass; got: the second):',
    schedule: 'What differs (expected: one clean pass; got: under this schedule):',
    'dead-lettered': 'Dead letters:',
  }[f.kind];
  const lines = [title];
  for (const d of f.differences.slice(0, MAX_DIFFERENCES)) lines.push(`  ${describeDifference(d)}`);
  if (f.differences.length > MAX_DIFFERENCES)
    lines.push(`  ... and ${f.differences.length - MAX_DIFFERENCES} more`);
  return lines;
}

function describeDifference(d: Difference): string {
  switch (d.kind) {
    case 'column':
      return `${d.table} ${JSON.stringify(d.key)}: ${d.column}: expected ${value(d.expected)}, got ${value(d.got)}`;
    case 'missing-row':
      return `${d.table} ${JSON.stringify(d.key)}: expected a row ${preview(d.expected)}, got none`;
    case 'extra-row':
      return `${d.table} ${JSON.stringify(d.key)}: expected no row, got ${preview(d.got)}`;
    case 'dead-letter':
      return `#${d.seq}: ${d.expected === undefined ? 'applied' : `dead-lettered (${d.expected})`} expected, got ${d.got === undefined ? 'applied' : `dead-lettered (${d.got})`}`;
    case 'checkpoint':
      return `checkpoint: expected ${d.expected}, got ${d.got}`;
  }
}

function causeSection(definition: ProjectionDefinition<ProsaEvent, string>, f: Failure): string[] {
  switch (f.kind) {
    case 'nondeterministic':
      return [
        'Likely cause: the fold reads the wall clock (Date.now(), new Date()), randomness (Math.random(), random ids)',
        'or state kept outside the actor (module-level variables, caches), so a replay or rebuild gives other rows.',
        '(The second pass ran with the clock a day ahead.) Take times and ids from the event instead.',
      ];
    case 'reference':
      return [
        'Likely cause: the projection and your reference fold these events differently; one of them has the bug.',
      ];
    case 'dead-lettered':
      return [
        'Likely cause: decode rejects an event the arbitrary meant to be valid, or a machine action throws on it.',
      ];
    case 'threw': {
      const lines = [
        'Likely cause: see the error. A machine action that throws dead-letters its event; an error here came',
        'from outside the machines (decode, keys, row, the schema or the engine).',
      ];
      const trace = f.run.trace;
      const restored =
        trace.length > 1 &&
        typeof trace[0] !== 'string' &&
        ((trace as ReplayTraceEntry[]).some((t) => t.step.kind !== 'batch' && t.step.kind !== 'rest') ||
          entityCount(definition, f.run.messages) > f.run.maxActors);
      if (restored)
        lines.push(
          'It threw after an actor came back from its snapshot (JSON): a Map, Set, class instance or closure in',
          'the context does not survive that. Keep the state in the context as plain JSON.',
        );
      return lines;
    }
    case 'schedule':
      return scheduleCauses(definition, f.run);
  }
}

function scheduleCauses(definition: ProjectionDefinition<ProsaEvent, string>, run: RunFacts): string[] {
  if (typeof run.trace[0] === 'string') {
    return [
      'Likely cause: the runtime on a real nats-server gives other rows than the in-memory clean pass: restarts,',
      'real batch boundaries and passivation change the result (see the in-memory check for a smaller case).',
    ];
  }
  const trace = run.trace as ReplayTraceEntry[];
  const has = (kind: string) => trace.some((t) => t.step.kind === kind);
  const restored =
    has('passivate') ||
    has('crash-before-commit') ||
    has('crash-after-commit') ||
    entityCount(definition, run.messages) > run.maxActors;
  const lines: string[] = ['Likely cause:'];
  if (has('crash-before-commit'))
    lines.push(
      '  - state kept outside the actor (a module-level variable or cache): the events of a batch that crashed',
      '    before its commit reached it, and reach it again after the restart; only the actor is rolled back.',
    );
  if (restored)
    lines.push(
      '  - state the snapshot does not capture: a passivated or restarted actor comes back from its persisted',
      '    snapshot only (JSON), so a Map, Set, class instance or closure in the context is lost. Keep the',
      '    state in the context as plain JSON.',
    );
  // Rows are also written when an actor is passivated, so passivation exposes this one too.
  const passivated = has('passivate') || entityCount(definition, run.messages) > run.maxActors;
  if (lines.length === 1 || !restored || passivated)
    lines.push(
      "  - a row that reads more than its own actor's snapshot (another entity's state, a shared variable):",
      '    rows are written when a batch commits or an actor is passivated, so it depends on how events of',
      '    different keys fall into batches.',
    );
  return lines;
}

/** How many distinct entities the messages touch (0 for those that do not decode). */
function entityCount(
  definition: ProjectionDefinition<ProsaEvent, string>,
  messages: readonly RawEvent[],
): number {
  const slots = new Set<string>();
  for (const m of messages) {
    try {
      for (const [kind, id] of definition.keys(definition.decode(m))) slots.add(`${kind}\u0000${id}`);
    } catch {
      // a dead letter touches no entity
    }
  }
  return slots.size;
}

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function safeJson(v: unknown): string {
  try {
    return (
      JSON.stringify(v, (_, x) =>
        typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? `<${x.length} bytes>` : x,
      ) ?? String(v)
    );
  } catch {
    return String(v);
  }
}

const truncate = (text: string, max: number): string =>
  text.length > max ? `${text.slice(0, max - 3)}...` : text;

const value = (v: unknown): string =>
  v === undefined ? 'nothing' : truncate(v instanceof Uint8Array ? `<${v.length} bytes>` : safeJson(v), 100);

const preview = (row: Record<string, unknown>): string => truncate(safeJson(row), 160);

// ---------------------------------------------------------------------------------------------
// End to end: a real nats-server and the real runtime
// ---------------------------------------------------------------------------------------------

/** Marks the streams this check creates, so it never deletes one it did not make. */
const STREAM_MARK = 'prosa checkProjection scratch stream: deleted and recreated for every run';

interface Segment {
  /** Share of the remaining messages this segment publishes (the last takes the rest). */
  share: number;
  batchSize: number;
  maxActors: number;
}

async function checkOverNats(
  definition: ProjectionDefinition<ProsaEvent, string>,
  o: CheckProjectionOptions<ProsaEvent>,
  nats: NatsCheckOptions,
): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'prosa-check-'));
  const server = nats.startServer ? await spawnNatsServer({ storeDir: join(root, 'jetstream') }) : undefined;
  const url = nats.url ?? (server?.url as string);
  const nc = await connect({ servers: url, name: 'prosa-checkProjection' });
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const stream = definition.source.stream;
    const info = await jsm.streams.info(stream).catch(() => undefined);
    if (info && info.config.description !== STREAM_MARK) {
      throw new UsageError(
        `checkProjection({ nats }) deletes and recreates stream ${stream} for every run, and ${url} already has one it did not create. Point it at a scratch server, or use { nats: { startServer: true } }.`,
      );
    }
    const tables = tablesOf(definition);
    const maxActors = Math.max(1, o.maxActors ?? defaults.maxActors);
    const segment: fc.Arbitrary<Segment> = fc.record({
      share: fc.double({ min: 0, max: 1, noNaN: true }),
      batchSize: fc.integer({ min: 1, max: Math.max(1, o.maxBatchSize ?? defaults.maxBatchSize) }),
      maxActors: fc.integer({ min: 1, max: maxActors }).map((n) => maxActors + 1 - n),
    });
    let runIndex = 0;
    const property = fc.asyncProperty(
      o.events,
      fc.array(segment, { minLength: 1, maxLength: 4 }),
      async (events, segments) => {
        const dir = join(root, `run-${++runIndex}`);
        try {
          const failure = await runOverNats(
            definition,
            tables,
            o,
            { jsm, js, url },
            dir,
            numbered(events),
            segments,
          );
          if (failure) throw failure;
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
    const details = await fc.check(property, runParameters(o, defaults.numRunsOverNats));
    if (details.failed) throw reportFailure(definition, o, details);
  } finally {
    await nc.close().catch(() => {});
    await server?.kill();
    rmSync(root, { recursive: true, force: true });
  }
}

async function runOverNats(
  definition: ProjectionDefinition<ProsaEvent, string>,
  tables: readonly TableSpec[],
  o: CheckProjectionOptions<ProsaEvent>,
  { jsm, js, url }: { jsm: JetStreamManager; js: JetStreamClient; url: string },
  dir: string,
  messages: RawEvent[],
  segments: readonly Segment[],
): Promise<RunFailure | undefined> {
  const stream = definition.source.stream;
  await jsm.streams.delete(stream).catch(() => false);
  await jsm.streams.add({
    name: stream,
    subjects: [...definition.source.subjects],
    storage: StorageType.Memory,
    description: STREAM_MARK,
  });
  const sqlitePath = join(dir, 'prosa.db');
  const words: string[] = [];
  const run: RunFacts = {
    messages: [],
    maxActors: Math.min(...segments.map((s) => s.maxActors)),
    trace: words,
  };
  const published: RawEvent[] = [];
  let next = 0;
  for (const [i, s] of segments.entries()) {
    const end =
      i === segments.length - 1 ? messages.length : next + Math.round((messages.length - next) * s.share);
    const runtime = createRuntime(
      {
        nats: { url },
        dataDir: dir,
        sqlite: { path: sqlitePath },
        http: { enabled: false },
        streams: {
          [stream]: { mode: 'external', subjects: [...definition.source.subjects], storage: 'memory' },
        },
        projections: [definition],
        defaults: { batch: { maxMessages: s.batchSize, maxWaitMs: 20 }, maxActors: s.maxActors },
      },
      { log: silentLogger() },
    );
    try {
      await runtime.start();
      const from = published.length;
      for (const m of messages.slice(next, end)) {
        const ack = await js.publish(m.subject, m.data);
        published.push({ subject: m.subject, seq: ack.seq, data: m.data });
      }
      await runtime.caughtUp({ timeoutMs: 30_000 });
      words.push(
        `start the runtime (batches of up to ${s.batchSize}, live actors capped at ${s.maxActors}), publish ${published.length > from ? seqList(published.slice(from).map((m) => m.seq)) : 'nothing'} while it runs, wait until it has caught up, then drain and stop it`,
      );
    } catch (error) {
      run.messages = published;
      return new RunFailure({ kind: 'threw', run, during: `segment ${i + 1} on nats-server`, error });
    } finally {
      await runtime.drain();
    }
    next = end;
  }
  run.messages = published;

  // The expectation: one clean in-memory pass over the messages with the server's sequences.
  let clean: ReplayResult;
  try {
    clean = cleanReplay(definition, published);
  } catch (error) {
    return new RunFailure({ kind: 'threw', run, during: 'the clean pass', error });
  }
  const db = new Database(sqlitePath, { readonly: true });
  try {
    const expected = modelOf(clean, tables);
    if (o.reference) {
      const differences = compareWithReference(o.reference, definition, published, expected, tables);
      if (differences.length > 0) return new RunFailure({ kind: 'reference', run, differences });
    }
    const got: Model = {
      tables: readTables(db, tables),
      deadLetters: new Map(
        (
          db
            .prepare(
              'SELECT stream_seq AS seq, reason FROM prosa_dead_letters WHERE worker = ? ORDER BY stream_seq',
            )
            .all(definition.name) as { seq: number; reason: string }[]
        ).map((d) => [d.seq, d.reason]),
      ),
      checkpoint:
        (
          db.prepare('SELECT seq FROM prosa_checkpoints WHERE worker = ?').get(definition.name) as
            | { seq: number }
            | undefined
        )?.seq ?? 0,
    };
    const differences = compareModels(expected, got);
    return differences.length > 0 ? new RunFailure({ kind: 'schedule', run, differences }) : undefined;
  } finally {
    db.close();
    clean.db.close();
  }
}
