// An event replayed after a saga reset starts the same timer again (same cause, same id): the
// timer that is pending stays pending, and fires once. It was cancelled by its own restart, and the
// restart's insert was then ignored, so it never fired.
import { describe, expect, it } from 'vitest';
import { createSagaEngine } from '../../../src/engine/sagaEngine.js';
import { moveCheckpoint } from '../../../src/store/checkpoints.js';
import { openDatabase } from '../../../src/store/database.js';
import { watchSaga as saga, watchMessage } from '../../support/fixtures/watchSaga.js';

const start = watchMessage(1, { type: 'Start', id: 'x' });

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
