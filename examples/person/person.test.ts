import { checkProjection } from 'prosa/testkit';
import { describe, it } from 'vitest';
import { personEvents } from './arbitrary.js';
import type { PersonEvent } from './events.js';
import people from './projection.js';

/**
 * The directory as a plain loop over the events, written from the rules, not from the machine:
 * a person exists from PersonCreated; names and emails (lower-cased, each once) change while it
 * is active; PersonArchived is for good.
 */
function referencePeople(events: readonly PersonEvent[]) {
  const rows = new Map<string, Record<string, unknown> & { emails: string[]; status: string }>();
  for (const e of events) {
    const id = e.data.person_id;
    const row = rows.get(id);
    if (e.type === 'PersonCreated') {
      if (row) continue; // created once; an archived person stays archived
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

describe('people projection', () => {
  describe('when person events are replayed with any batching, redelivery, crash and passivation', () => {
    it('gives the rows of one clean pass and of the reference', () =>
      checkProjection(people, {
        events: personEvents(),
        reference: referencePeople,
        allowDeadLetters: false,
        numRuns: 300,
      }));
  });

  describe('when the events go through a real nats-server and the runtime restarts', () => {
    it('gives the same rows', () =>
      checkProjection(people, {
        events: personEvents(),
        reference: referencePeople,
        allowDeadLetters: false,
        numRuns: 5,
        nats: { startServer: true },
      }));
  });
});
