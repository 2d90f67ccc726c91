// people: the person directory. It answers: who is in the directory under which name, at which
// email addresses, since when, and who has been archived and why. One actor per person, fed the
// person's events in stream order; its context becomes its row. Bad input goes to dlq.people.

import { assertNever, defineProjection, type EntityKey } from 'prosa';
import { decodePersonEvent, type PersonEvent } from '../events/person.js';
import { type Person, personMachine } from '../machines/person.js';

export default defineProjection<PersonEvent, 'person'>({
  name: 'people',
  // Bump it when the fold or the schema changes: the worker rebuilds the model beside the live one.
  version: 1,
  source: { stream: 'PERSON_EVENTS', subjects: ['person.events.>'] },

  /** Checks the envelope and the variant's fields; the subject must name the same person. */
  decode: decodePersonEvent,

  /** Every person event concerns exactly its person. */
  keys(e): readonly EntityKey<'person'>[] {
    switch (e.type) {
      case 'PersonCreated':
      case 'NameChanged':
      case 'EmailAdded':
      case 'EmailRemoved':
      case 'PersonArchived':
        return [['person', e.data.person_id]];
      default:
        return assertNever(e); // a new event type fails to compile here
    }
  },

  entities: {
    person: {
      machine: personMachine,
      table: 'people',
      // The context plus the state the person is in; `emails` is stored as JSON text.
      row: (snapshot) =>
        snapshot.hasTag('no-row')
          ? null
          : { ...(snapshot.context as Person), status: snapshot.matches('archived') ? 'archived' : 'active' },
    },
  },

  schema: {
    migrations: [
      `CREATE TABLE people (
         id TEXT PRIMARY KEY,
         given_name TEXT NOT NULL,
         family_name TEXT NOT NULL,
         emails TEXT NOT NULL,
         status TEXT NOT NULL,
         archived_reason TEXT,
         created_at TEXT,
         updated_at TEXT
       )`,
      `CREATE VIEW active_people AS SELECT * FROM people WHERE status = 'active'`,
    ],
  },
});
