// An event replayed after a saga reset starts the same timer again (same cause, same id): the
// timer that is pending stays pending, and fires once. It was cancelled by its own restart, and the
// restart's insert was then ignored, so it never fired.
import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import type { RawEvent } from '../../../src/define/projection.js';
import { defineSaga, sagaActions } from '../../../src/define/saga.js';
import { createSagaEngine } from '../../../src/engine/sagaEngine.js';
import { moveCheckpoint } from '../../../src/store/checkpoints.js';
import { openDatabase } from '../../../src/store/database.js';

type Event = { type: 'Start'; id: string };

const watch = setup({
  types: { context: {} as { id: string }, events: {} as Event | { type: 'prosa.timeout'; name: string } },
  actions: sagaActions,
}).createMachine({
  id: 'watch',
  initial: 'idle',
  context: ({ input }) => ({ id: (input as { id: string }).id }),
  states: {
    idle: {
      tags: 'idle',
      on: { Start: { target: 'watching', actions: { type: 'startTimeout', params: { name: 'late' } } } },
    },
    watching: {
      on: {
        // A Start while watching starts the watch again.
        Start: {
          target: 'watching',
          reenter: true,
          actions: { type: 'startTimeout', params: { name: 'late' } },
        },
        'prosa.timeout': {
          target: 'done',
          actions: {
            type: 'emitCommand',
            params: ({ context }) => ({
              type: 'ReportLate',
              aggregateId: context.id,
              data: { id: context.id },
            }),
          },
        },
      },
    },
    done: { type: 'final' },
  },
});

const saga = defineSaga({
  name: 'watch',
  source: { stream: 'W', subjects: ['w.>'] },
  decode: (raw: RawEvent) => JSON.parse(new TextDecoder().decode(raw.data)) as Event,
  correlate: (e: Event) => [e.id],
  trace: () => ({
    correlationId: '0197a1b0-0000-7000-8000-000000000001',
    causationId: '0197a1b0-0000-7000-8000-000000000002',
  }),
  machine: watch,
  timeouts: { late: '5m' },
  commands: { ReportLate: 'commands.watch.ReportLate' },
});

const start: RawEvent = {
  subject: 'w.x',
  seq: 1,
  data: new TextEncoder().encode(JSON.stringify({ type: 'Start', id: 'x' })),
};

describe('a saga timer started again by a replayed event', () => {
  it('stays pending and fires once', () => {
    const db = openDatabase(':memory:');
    let now = Date.UTC(2026, 0, 1);
    const clock = { now: () => now };
    createSagaEngine(saga, db, { clock }).applyBatch([start]);
    // prosa reset watch --to-seq 0, then the same event again.
    moveCheckpoint(db, 'watch', 0, new Date(now).toISOString());
    const engine = createSagaEngine(saga, db, { clock });
    engine.applyBatch([start]);
    const timers = db.prepare('SELECT name, status FROM prosa_timers').all();
    expect(timers).toEqual([{ name: 'late', status: 'pending' }]);
    now += 6 * 60_000;
    expect(engine.fireDueTimers()).toBe(1);
    expect(db.prepare('SELECT instance, subject FROM prosa_outbox').all()).toEqual([
      { instance: 'x', subject: 'commands.watch.ReportLate' },
    ]);
  });
});
