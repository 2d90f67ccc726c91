// A saga instance whose event waits behind a dead letter: its timers wait too, and fire once the
// dead letter is skipped (or retried and applied), so the instance sees its inputs in order.

import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import type { RawEvent } from '../../../src/define/projection.js';
import { defineSaga, sagaActions } from '../../../src/define/saga.js';
import { createSagaEngine } from '../../../src/engine/sagaEngine.js';
import { openDatabase, type SqliteDatabase } from '../../../src/store/database.js';

type Event = { type: 'Start' | 'Boom'; id: string };

const watch = setup({
  types: { context: {} as { id: string }, events: {} as Event | { type: 'prosa.timeout'; name: string } },
  actions: {
    ...sagaActions,
    explode: () => {
      throw new Error('boom');
    },
  },
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
        Boom: { actions: 'explode' },
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

const message = (seq: number, e: Event): RawEvent => ({
  subject: `w.${e.id}`,
  seq,
  data: new TextEncoder().encode(JSON.stringify(e)),
});
const commands = (db: SqliteDatabase) =>
  db.prepare('SELECT instance, subject FROM prosa_outbox ORDER BY created_at').all();

describe('a saga instance that waits behind a dead letter', () => {
  it('keeps its due timers waiting until the dead letter is skipped, then fires them', () => {
    const db = openDatabase(':memory:');
    let now = Date.UTC(2026, 0, 1);
    const engine = createSagaEngine(saga, db, { clock: { now: () => now } });
    engine.applyBatch([message(1, { type: 'Start', id: 'x' }), message(2, { type: 'Start', id: 'y' })]);
    const result = engine.applyBatch([message(3, { type: 'Boom', id: 'x' })]);
    expect(result.deadLetters.map((d) => d.seq)).toEqual([3]);

    now += 10 * 60_000;
    // y's timer fires; x's waits with x's events.
    expect(engine.fireDueTimers()).toBe(1);
    expect(commands(db)).toEqual([{ instance: 'y', subject: 'commands.watch.ReportLate' }]);
    expect(engine.nextTimeoutAt()).toBeUndefined();
    expect(engine.fireDueTimers()).toBe(0);

    engine.skipDeadLetter(3, () => {});
    expect(engine.nextTimeoutAt()).toBe(Date.UTC(2026, 0, 1) + 5 * 60_000);
    expect(engine.fireDueTimers()).toBe(1);
    expect(commands(db)).toEqual([
      { instance: 'y', subject: 'commands.watch.ReportLate' },
      { instance: 'x', subject: 'commands.watch.ReportLate' },
    ]);
  });
});
