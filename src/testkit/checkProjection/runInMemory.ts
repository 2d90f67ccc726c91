/**
 * One in-memory run: a clean pass, the reference, the run under the schedule (with the clock a day
 * ahead) and, when they differ, a second clean pass to tell a non-deterministic fold apart.
 */
import type { ProjectionDefinition, ProsaEvent, RawEvent, SqliteDatabase } from '../../internal.js';
import { cleanReplay, type ReplayResult, replay, replayTraceOf } from '../replay.js';
import { compareModels, type Difference } from './compareModels.js';
import { compareWithReference } from './compareWithReference.js';
import { type RunFacts, RunFailure, UsageError } from './failures.js';
import type { CheckProjectionOptions } from './options.js';
import { modelOf, type TableSpec } from './readModels.js';
import type { Schedule } from './schedule.js';

const CLOCK_SHIFT_MS = 86_400_000 + 12_345;

export function runInMemory(
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
