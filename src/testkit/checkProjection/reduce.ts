import type { ProjectionDefinition, ProsaEvent, RawEvent } from '../../internal.js';
import type { DeliveryStep } from '../replay.js';
import type { RunFailure } from './failures.js';
import { type CheckProjectionOptions, defaults } from './options.js';
import type { TableSpec } from './readModels.js';
import { runInMemory } from './runInMemory.js';
import { type Schedule, scheduleWithout } from './schedule.js';

/**
 * fast-check shrinks events and schedule one after the other and can stop in a local minimum (a
 * smaller event list no longer lines up with the batch sizes). This finishes the job on the
 * failing case itself: drop events, drop steps, make batches smaller and the actor cap larger, for
 * as long as it still fails.
 */
export function reduce(
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
