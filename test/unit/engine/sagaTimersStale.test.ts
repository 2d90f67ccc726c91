// Two timers of one instance due in the same look: the first one's delivery moves the instance out
// of the state that started the second, which cancels it; the second must not be delivered then.

import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import type { RawEvent } from '../../../src/define/projection.js';
import { defineSaga, sagaActions } from '../../../src/define/saga.js';
import { createSagaEngine } from '../../../src/engine/sagaEngine.js';
import { openDatabase } from '../../../src/store/database.js';

type Event = { type: 'Start'; id: string };
type Timeout = { type: 'prosa.timeout'; name: string };

const race = setup({
  types: { context: {} as { id: string }, events: {} as Event | Timeout },
  actions: sagaActions,
}).createMachine({
  id: 'race',
  initial: 'idle',
  context: ({ input }) => ({ id: (input as { id: string }).id }),
  states: {
    idle: {
      tags: 'idle',
      on: {
        Start: {
          target: 'watching',
          actions: [
            { type: 'startTimeout', params: { name: 'first' } },
            { type: 'startTimeout', params: { name: 'second' } },
          ],
        },
      },
    },
    watching: {
      on: { 'prosa.timeout': { target: 'after' } },
    },
    after: {
      on: {
        'prosa.timeout': {
          target: 'after',
          reenter: true,
          actions: {
            type: 'emitCommand',
            params: ({ context }) => ({ type: 'Stale', aggregateId: context.id, data: { id: context.id } }),
          },
        },
      },
    },
  },
});

const saga = defineSaga({
  name: 'race',
  source: { stream: 'R', subjects: ['r.>'] },
  decode: (raw: RawEvent) => JSON.parse(new TextDecoder().decode(raw.data)) as Event,
  correlate: (e: Event) => [e.id],
  trace: () => ({
    correlationId: '0197a1b0-0000-7000-8000-000000000001',
    causationId: '0197a1b0-0000-7000-8000-000000000002',
  }),
  machine: race,
  timeouts: { first: '1m', second: '2m' },
  commands: { Stale: 'commands.race.Stale' },
});

describe('timers due in one look', () => {
  it('a timer cancelled by the delivery of an earlier one in the same look is not delivered', () => {
    const db = openDatabase(':memory:');
    let now = Date.UTC(2026, 0, 1);
    const engine = createSagaEngine(saga, db, { clock: { now: () => now } });
    engine.applyBatch([
      { seq: 1, subject: 'r.x', data: new TextEncoder().encode(JSON.stringify({ type: 'Start', id: 'x' })) },
    ]);
    now += 10 * 60_000;
    engine.fireDueTimers();
    expect(db.prepare('SELECT count(*) FROM prosa_outbox').pluck().get()).toBe(0);
    expect(db.prepare('SELECT name, status FROM prosa_timers ORDER BY name').all()).toEqual([
      { name: 'first', status: 'fired' },
      { name: 'second', status: 'cancelled' },
    ]);
  });
});
