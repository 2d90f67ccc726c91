// A user's project in plain JavaScript: one projection, a tally per key, on a stream prosa manages.
import { defineConfig, defineProjection, InvalidEventError } from 'prosa';
import { assign, setup } from 'xstate';

const tallyMachine = setup({}).createMachine({
  id: 'tally',
  context: ({ input }) => ({ id: input.id, total: 0, events: 0 }),
  on: {
    Added: {
      actions: assign(({ context, event }) => ({
        total: context.total + event.amount,
        events: context.events + 1,
      })),
    },
  },
});

export const tallies = defineProjection({
  name: 'tallies',
  source: { stream: 'TALLY', subjects: ['tally.>'] },
  decode(raw) {
    const body = JSON.parse(new TextDecoder().decode(raw.data));
    if (typeof body.id !== 'string' || typeof body.amount !== 'number')
      throw new InvalidEventError('expected {"id": string, "amount": number}');
    return { type: 'Added', id: body.id, amount: body.amount };
  },
  keys: (e) => [['tally', e.id]],
  entities: { tally: { machine: tallyMachine, table: 'tallies' } },
  schema: {
    migrations: [
      'CREATE TABLE tallies (id TEXT PRIMARY KEY, total INTEGER NOT NULL, events INTEGER NOT NULL)',
    ],
  },
});

export default defineConfig({
  streams: { TALLY: { mode: 'managed', subjects: ['tally.>'] } },
  projections: [tallies],
  http: { port: 0 },
});
