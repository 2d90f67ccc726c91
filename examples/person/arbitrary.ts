// Person event streams for property tests: a few people, so events meet the same person often;
// shared email addresses in several spellings; events before a person is created and after it is
// archived. Built from the kit's envelope arbitrary.

import fc from 'fast-check';
import type { StreamMessage } from 'prosa/testkit';
import { arbitraries } from 'prosa/testkit';
import { type PersonEvents, type PersonEventType, toMessage } from './events.js';

const PEOPLE = [
  '0197a1b0-0000-7000-8000-00000000000a',
  '0197a1b0-0000-7000-8000-00000000000b',
  '0197a1b0-0000-7000-8000-00000000000c',
  '0197a1b0-0000-7000-8000-00000000000d',
];

/** Envelopes of one event type whose aggregate is the person. */
const event = <T extends PersonEventType>(type: T, data: fc.Arbitrary<PersonEvents[T]>) =>
  arbitraries.envelope(type, data).map((e) => toMessage({ ...e, aggregate_id: e.data[type].person_id }));

export interface PersonEventsOptions {
  /** People in the pool (1..4). @default 3 */
  people?: number;
  /** At most this many events. @default 30 */
  events?: number;
}

/** Streams of person events in stream order, ready for `checkProjection`. */
export function personEvents(options: PersonEventsOptions = {}): fc.Arbitrary<StreamMessage[]> {
  const person_id = fc.constantFrom(...PEOPLE.slice(0, Math.max(1, Math.min(4, options.people ?? 3))));
  const given_name = fc.constantFrom('Ada', 'Grace', 'Margaret', 'Linus');
  const family_name = fc.constantFrom('Lovelace', 'Hopper', 'Hamilton', 'Torvalds');
  const email = fc.constantFrom('ada@example.com', 'Ada@Example.com', 'ops@example.com', 'grace@example.com');
  return fc.array(
    fc.oneof(
      { weight: 2, arbitrary: event('PersonCreated', fc.record({ person_id, given_name, family_name })) },
      { weight: 2, arbitrary: event('NameChanged', fc.record({ person_id, given_name, family_name })) },
      { weight: 3, arbitrary: event('EmailAdded', fc.record({ person_id, email })) },
      { weight: 2, arbitrary: event('EmailRemoved', fc.record({ person_id, email })) },
      {
        weight: 1,
        arbitrary: event(
          'PersonArchived',
          fc.record({ person_id, reason: fc.constantFrom('left the company', 'duplicate entry') }),
        ),
      },
    ),
    { maxLength: options.events ?? 30 },
  );
}
