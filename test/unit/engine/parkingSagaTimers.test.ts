// A saga instance whose event waits behind a dead letter: its timers wait too, and fire once the
// dead letter is skipped (or retried and applied), so the instance sees its inputs in order; and a
// reset that delivers the events again keeps that order.

import { describe, expect, it } from 'vitest';
import { createSagaEngine } from '../../../src/engine/sagaEngine.js';
import { moveCheckpoint } from '../../../src/store/checkpoints.js';
import { openDatabase, type SqliteDatabase } from '../../../src/store/database.js';
import { markDeadLetterSkipped, retryRecorder } from '../../../src/store/deadLetters.js';
import { systemClock } from '../../../src/time/clock.js';
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

describe('a saga reset that delivers events again around a dead letter', () => {
  const waitingSeqs = (db: SqliteDatabase) =>
    db.prepare("SELECT stream_seq FROM prosa_waiting WHERE worker = 'watch' ORDER BY 1").pluck().all();
  const reset = (db: SqliteDatabase, engine: ReturnType<typeof createSagaEngine>, to: number) => {
    moveCheckpoint(db, 'watch', to, 'now');
    engine.reload();
  };

  it('does not hold an event from before the dead letter behind a later one', () => {
    const db = openDatabase(':memory:');
    const engine = createSagaEngine(saga, db);
    const events = [
      message(1, { type: 'Start', id: 'x' }),
      message(2, { type: 'Start', id: 'x' }),
      message(3, { type: 'Boom', id: 'x' }),
      message(4, { type: 'Start', id: 'x' }),
    ];
    engine.applyBatch(events);
    expect(waitingSeqs(db)).toEqual([4]);
    reset(db, engine, 1);
    const again = engine.applyBatch(events);
    expect(again).toMatchObject({ applied: 1, waited: 1, checkpoint: 4 });
    expect(waitingSeqs(db)).toEqual([4]);
    // The chain still ends at 4: x's next event waits behind it, and a skip of 3 releases both in order.
    engine.applyBatch([message(5, { type: 'Start', id: 'x' })]);
    expect(waitingSeqs(db)).toEqual([4, 5]);
    expect(engine.skipDeadLetter(3, () => {})).toEqual({ applied: 2, deadLettered: 0 });
    expect(waitingSeqs(db)).toEqual([]);
  });

  it('holds nothing behind a dead letter an operator already skipped', () => {
    const db = openDatabase(':memory:');
    const engine = createSagaEngine(saga, db);
    const events = [
      message(1, { type: 'Start', id: 'x' }),
      message(2, { type: 'Boom', id: 'x' }),
      message(3, { type: 'Start', id: 'x' }),
    ];
    engine.applyBatch(events);
    engine.skipDeadLetter(2, () => markDeadLetterSkipped(db, 'watch', 2, 'now'));
    expect(waitingSeqs(db)).toEqual([]);
    reset(db, engine, 0);
    const again = engine.applyBatch(events);
    expect(again).toMatchObject({ applied: 2, waited: 0, checkpoint: 3 });
    expect(waitingSeqs(db)).toEqual([]);
    expect(db.prepare("SELECT count(*) FROM prosa_parked WHERE worker = 'watch'").pluck().get()).toBe(0);
  });

  it('opens again a dead letter a retry had applied, when it fails again', () => {
    const db = openDatabase(':memory:');
    const engine = createSagaEngine(saga, db);
    engine.applyBatch([message(1, { type: 'Start', id: 'x' }), message(2, { type: 'Boom', id: 'x' })]);
    retryRecorder(db, 'watch', 'W', systemClock)({ seq: 2, applied: true });
    engine.skipDeadLetter(2, () => {});
    reset(db, engine, 0);
    engine.applyBatch([message(1, { type: 'Start', id: 'x' }), message(2, { type: 'Boom', id: 'x' })]);
    expect(
      db
        .prepare("SELECT resolution, attempts, published_at FROM prosa_dead_letters WHERE worker = 'watch'")
        .get(),
    ).toEqual({ resolution: null, attempts: 1, published_at: null });
  });
});
