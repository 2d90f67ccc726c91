/** How a check fails: the public error a person reads, and the plain data a failed run leaves for it. */
import type { RawEvent } from '../../internal.js';
import type { ReplayTraceEntry } from '../replay.js';
import type { Difference } from './compareModels.js';

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

/** Thrown from inside a run for a mistake in the options or the events (not a property failure). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Why a run failed, as plain data (the databases are closed by then), rendered at the end. */
export type Failure =
  | { kind: 'nondeterministic'; run: RunFacts; differences: Difference[] }
  | { kind: 'schedule'; run: RunFacts; differences: Difference[] }
  | { kind: 'reference'; run: RunFacts; differences: Difference[] }
  | { kind: 'threw'; run: RunFacts; during: string; error: unknown }
  | { kind: 'dead-lettered'; run: RunFacts; differences: Difference[] };

/** What a report needs to know of the run. */
export interface RunFacts {
  messages: RawEvent[];
  maxActors: number;
  /** The faulted run's steps; for runs over NATS, the segments in words. */
  trace: ReplayTraceEntry[] | string[];
}

export class RunFailure extends Error {
  constructor(readonly failure: Failure) {
    super(`checkProjection: ${failure.kind}`);
  }
}
