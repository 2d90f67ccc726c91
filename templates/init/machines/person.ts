// One person of the directory: unknown until created, then active, then archived for good. Pure:
// times come from the events, never the clock. The context is the row (see projections/people.ts).
//
//   unknown ──PersonCreated──▶ active ──PersonArchived──▶ archived
//                              (NameChanged, EmailAdded, EmailRemoved)

import { assign, setup } from 'xstate';
import type { PersonEvent } from '../events/person.js';

export interface Person {
  id: string;
  given_name: string;
  family_name: string;
  /** Lower-cased, each once, in the order they were added. */
  emails: string[];
  archived_reason: string | null;
  created_at: string | null;
  /** The timestamp of the last event that changed the person. */
  updated_at: string | null;
}

const normalized = (email: string) => email.trim().toLowerCase();

export const personMachine = setup({
  types: { context: {} as Person, events: {} as PersonEvent, input: {} as { id: string } },
  actions: {
    create: assign(({ event }) => {
      if (event.type !== 'PersonCreated') return {};
      const { given_name, family_name } = event.data;
      return { given_name, family_name, created_at: event.timestamp, updated_at: event.timestamp };
    }),
    rename: assign(({ event }) => {
      if (event.type !== 'NameChanged') return {};
      const { given_name, family_name } = event.data;
      return { given_name, family_name, updated_at: event.timestamp };
    }),
    addEmail: assign(({ context, event }) =>
      event.type === 'EmailAdded'
        ? { emails: [...context.emails, normalized(event.data.email)], updated_at: event.timestamp }
        : {},
    ),
    removeEmail: assign(({ context, event }) =>
      event.type === 'EmailRemoved'
        ? {
            emails: context.emails.filter((e) => e !== normalized(event.data.email)),
            updated_at: event.timestamp,
          }
        : {},
    ),
    archive: assign(({ event }) =>
      event.type === 'PersonArchived'
        ? { archived_reason: event.data.reason, updated_at: event.timestamp }
        : {},
    ),
  },
  guards: {
    isNewEmail: ({ context, event }) =>
      event.type === 'EmailAdded' && !context.emails.includes(normalized(event.data.email)),
    isKnownEmail: ({ context, event }) =>
      event.type === 'EmailRemoved' && context.emails.includes(normalized(event.data.email)),
  },
}).createMachine({
  id: 'person',
  initial: 'unknown',
  context: ({ input }) => ({
    id: input.id,
    given_name: '',
    family_name: '',
    emails: [],
    archived_reason: null,
    created_at: null,
    updated_at: null,
  }),
  states: {
    // Events about a person before it is created change nothing (and make no row).
    unknown: { tags: 'no-row', on: { PersonCreated: { target: 'active', actions: 'create' } } },
    active: {
      on: {
        NameChanged: { actions: 'rename' },
        EmailAdded: { guard: 'isNewEmail', actions: 'addEmail' },
        EmailRemoved: { guard: 'isKnownEmail', actions: 'removeEmail' },
        PersonArchived: { target: 'archived', actions: 'archive' },
      },
    },
    // Archived is for good: later events, a second PersonCreated included, change nothing.
    archived: {},
  },
});
