/**
 * The CIM `StoredEvent` envelope as an arbitrary, around any domain event: what a
 * domain of one's own (people, orders, ...) puts on the wire when it follows the crates' format.
 */
import fc from 'fast-check';
import type { StoredEvent } from '../../internal.js';
import { uuidV7 } from './ids.js';
import { timestamp } from './time.js';

export interface EnvelopeOptions {
  /** The envelope's `aggregate_id`. @default a UUID v7 per envelope */
  aggregateId?: string | fc.Arbitrary<string>;
  /** The append time. @default {@link timestamp}() */
  timestamp?: fc.Arbitrary<string>;
  /** How often `causation_id` is null (the crates never write null, readers must accept it). @default 0.1 */
  nullCausation?: number;
}

/**
 * Envelopes of one event type: fresh UUID v7 ids, `sequence` 1 (as the crates write), `data`
 * externally tagged (`{"PersonCreated": {...}}`), `metadata` null.
 *
 * @example
 * arbitraries.envelope('NameChanged', fc.record({ person_id: personId, given_name: fc.string() }))
 * // => { event_id: '0197…', aggregate_id: '0197…', sequence: 1, timestamp: '2025-…Z',
 * //      correlation_id: '0197…', causation_id: '0197…', event_type: 'NameChanged',
 * //      data: { NameChanged: { person_id: …, given_name: … } }, metadata: null }
 */
export function envelope<T extends string, D>(
  eventType: T,
  data: fc.Arbitrary<D>,
  options: EnvelopeOptions = {},
): fc.Arbitrary<StoredEvent<{ [K in T]: D }>> {
  const aggregate =
    typeof options.aggregateId === 'string'
      ? fc.constant(options.aggregateId)
      : (options.aggregateId ?? uuidV7());
  const nullFreq = Math.max(0, Math.min(1, options.nullCausation ?? 0.1));
  const causation =
    nullFreq === 0
      ? uuidV7()
      : fc.oneof(
          { weight: Math.round((1 - nullFreq) * 100), arbitrary: uuidV7() as fc.Arbitrary<string | null> },
          { weight: Math.round(nullFreq * 100), arbitrary: fc.constant(null) },
        );
  return fc
    .record({
      event_id: uuidV7(),
      aggregate_id: aggregate,
      timestamp: options.timestamp ?? timestamp(),
      correlation_id: uuidV7(),
      causation_id: causation,
      data,
    })
    .map((e) => ({
      event_id: e.event_id,
      aggregate_id: e.aggregate_id,
      sequence: 1,
      timestamp: e.timestamp,
      correlation_id: e.correlation_id,
      causation_id: e.causation_id,
      event_type: eventType,
      data: { [eventType]: e.data } as { [K in T]: D },
      metadata: null,
    }));
}
