// A saga instance whose event waits behind a dead letter: its timers wait too, and fire once the
// dead letter is skipped (or retried and applied), so the instance sees its inputs in order.

import { describe, expect, it } from 'vitest';
import { createSagaEngine } from '../../../src/engine/sagaEngine.js';
import { openDatabase, type SqliteDatabase } from '../../../src/store/database.js';
import { watchMessage as message, watchSaga as saga } from '../../support/fixtures/watchSaga.js';

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
