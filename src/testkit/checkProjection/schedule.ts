/**
 * A run's delivery schedule: batch boundaries, redeliveries, crashes before and after a commit,
 * passivations, and the live-actor cap, as a fast-check arbitrary.
 */
import fc from 'fast-check';
import type { DeliveryStep } from '../replay.js';
import { defaults, type ScheduleOptions } from './options.js';

export interface Schedule {
  steps: DeliveryStep[];
  restBatchSize: number;
  maxActors: number;
}

export function scheduleArb(o: ScheduleOptions): fc.Arbitrary<Schedule> {
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

/** The schedule with every step that delivers message `index` (0-based) one message smaller. */
export function scheduleWithout(schedule: Schedule, index: number): Schedule {
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
