/** What checkProjection takes: the events to try, how adversarial a schedule may be, fast-check's run parameters. */
import type fc from 'fast-check';
import type { ProsaEvent } from '../../internal.js';

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

export const defaults = {
  maxActors: 8,
  maxBatchSize: 10,
  maxRedelivered: 6,
  maxSteps: 30,
  numRuns: 200,
  numRunsOverNats: 10,
} as const;

export function runParameters(o: RunOptions, numRuns: number): fc.Parameters<unknown> {
  const p: fc.Parameters<unknown> = { numRuns: o.numRuns ?? numRuns };
  if (o.seed !== undefined) p.seed = o.seed;
  if (o.path !== undefined) p.path = o.path;
  return p;
}
