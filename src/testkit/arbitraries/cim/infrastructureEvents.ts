/** Whole, causally plausible CIM infrastructure streams: the arbitrary a projection's check takes. */
import fc from 'fast-check';
import type { RawEvent } from '../../../internal.js';
import { materialize } from './materialize.js';
import { type InfrastructureSequenceOptions, stepArb, timingArb } from './plan.js';

export interface InfrastructureEventsOptions
  extends Omit<InfrastructureSequenceOptions, 'minEvents' | 'maxEvents'> {
  /** How many events: at most `n`, or a range. @default { min: 0, max: 40 } */
  events?: number | { min?: number; max?: number };
}

/**
 * Valid, causally plausible sequences of CIM infrastructure events on the wire, in stream order
 * (`seq` 1..n), over a pool of `resources` compute resources (and networks, interfaces, software
 * and policies): registrations and re-registrations, updates (null and missing fields, unknown
 * ids), removals, interfaces, networks and topologies, connections made and severed, network
 * removal, software and policies. Timestamps increase, written with 0, 3, 6 or 9 fraction digits
 * and now and then at an offset. Shrinks to few, simple events.
 *
 * @example checkProjection(topology, { events: arbitraries.cim.infrastructureEvents({ resources: 4, events: 60 }) })
 */
export function infrastructureEvents(options: InfrastructureEventsOptions = {}): fc.Arbitrary<RawEvent[]> {
  const { events, ...pool } = options;
  const range = typeof events === 'number' ? { max: events } : (events ?? {});
  return infrastructureEventSequence({ ...pool, minEvents: range.min ?? 0, maxEvents: range.max ?? 40 });
}

/**
 * {@link infrastructureEvents} with the event count as `minEvents`/`maxEvents`. Updates, removals
 * and severings mostly concern entities that exist, sometimes ones that never did; connections
 * join interfaces of pool resources; re-registrations, repeated definitions and duplicate entries
 * in a topology occur.
 */
export function infrastructureEventSequence(
  options: InfrastructureSequenceOptions = {},
): fc.Arbitrary<RawEvent[]> {
  const o: Required<InfrastructureSequenceOptions> = {
    minEvents: 0,
    maxEvents: 40,
    resources: 5,
    networks: 3,
    interfaces: 2,
    configurations: 3,
    policies: 3,
    ...options,
  };
  const timed = fc.record({ step: stepArb(o), timing: timingArb });
  return fc
    .array(timed, { minLength: o.minEvents, maxLength: o.maxEvents, size: 'max' })
    .map((plan) => readable(materialize(plan)));
}

/** Lets fast-check print a counterexample's bodies as text rather than as byte arrays. */
function readable(events: RawEvent[]): RawEvent[] {
  for (const e of events) {
    Object.defineProperty(e, fc.toStringMethod, {
      value: () => `#${e.seq} ${e.subject} ${Buffer.from(e.data).toString('utf8')}`,
      enumerable: false,
    });
  }
  return events;
}
