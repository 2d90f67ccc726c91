// What the proof of the people projection draws on: streams of a few people's events (so events
// meet the same person often: shared emails in several spellings, events before a person is
// created and after it is archived), and the directory as a plain loop written from the rules.

import fc from 'fast-check';
import { arbitraries, type StreamMessage } from 'prosa/testkit';
import { type PersonEvent, type PersonEvents, type PersonEventType, toMessage } from '../events/person.js';

const PEOPLE = [
  '0197a1b0-0000-7000-8000-00000000000a',
  '0197a1b0-0000-7000-8000-00000000000b',
  '0197a1b0-0000-7000-8000-00000000000c',
];

/** Envelopes of one event type whose aggregate is the person. */
const event = <T extends PersonEventType>(type: T, data: fc.Arbitrary<PersonEvents[T]>) =>
  arbitraries.envelope(type, data).map((e) => toMessage({ ...e, aggregate_id: e.data[type].person_id }));

/** Streams of a few people's events, so events meet the same person often. */
export function personEvents(): fc.Arbitrary<StreamMessage[]> {
  const person_id = fc.constantFrom(...PEOPLE);
  const given_name = fc.constantFrom('Ada', 'Grace', 'Margaret');
  const family_name = fc.constantFrom('Lovelace', 'Hopper', 'Hamilton');
  const email = fc.constantFrom('ada@example.com', 'Ada@Example.com', 'grace@example.com');
  return fc.array(
    fc.oneof(
      { weight: 2, arbitrary: event('PersonCreated', fc.record({ person_id, given_name, family_name })) },
      { weight: 2, arbitrary: event('NameChanged', fc.record({ person_id, given_name, family_name })) },
      { weight: 3, arbitrary: event('EmailAdded', fc.record({ person_id, email })) },
      { weight: 2, arbitrary: event('EmailRemoved', fc.record({ person_id, email })) },
      {
        weight: 1,
        arbitrary: event('PersonArchived', fc.record({ person_id, reason: fc.constant('left') })),
      },
    ),
    { maxLength: 30 },
  );
}

/** The directory as a plain loop: created once, changed while active, archived for good. */
export function referencePeople(events: readonly PersonEvent[]) {
  const rows = new Map<string, Record<string, unknown> & { emails: string[]; status: string }>();
  for (const e of events) {
    const id = e.data.person_id;
    const row = rows.get(id);
    if (e.type === 'PersonCreated') {
      if (row) continue;
      const { given_name, family_name } = e.data;
      rows.set(id, {
        id,
        given_name,
        family_name,
        emails: [],
        status: 'active',
        archived_reason: null,
        created_at: e.timestamp,
        updated_at: e.timestamp,
      });
      continue;
    }
    if (row?.status !== 'active') continue;
    if (e.type === 'NameChanged') {
      Object.assign(row, { given_name: e.data.given_name, family_name: e.data.family_name });
    } else if (e.type === 'EmailAdded') {
      const email = e.data.email.toLowerCase();
      if (row.emails.includes(email)) continue;
      row.emails.push(email);
    } else if (e.type === 'EmailRemoved') {
      const email = e.data.email.toLowerCase();
      if (!row.emails.includes(email)) continue;
      row.emails = row.emails.filter((x) => x !== email);
    } else {
      Object.assign(row, { status: 'archived', archived_reason: e.data.reason });
    }
    row.updated_at = e.timestamp;
  }
  return { people: rows };
}
