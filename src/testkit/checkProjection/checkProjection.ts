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
import fc from 'fast-check';
import type { ProjectionDefinition, ProsaEvent } from '../../internal.js';
import { checkOverNats } from './checkOverNats.js';
import { RunFailure } from './failures.js';
import { numbered } from './numbered.js';
import { type CheckProjectionOptions, defaults, type NatsCheckOptions, runParameters } from './options.js';
import { tablesOf } from './readModels.js';
import { reduce } from './reduce.js';
import { reportFailure } from './reportFailure.js';
import { runInMemory } from './runInMemory.js';
import { type Schedule, scheduleArb } from './schedule.js';

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
