// The prune queries of the saga tables (issue 13): what is past its retention goes, a bounded
// batch at a time; what is still needed (an unpublished command, a pending timer) never does.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../../../src/store/database.js';
import { createOutboxReader, createOutboxWriter, createPublishedPruner } from '../../../src/store/outbox.js';
import { createFinishedPruner, createSagaInstanceStore } from '../../../src/store/sagaInstances.js';
import { createEndedTimerPruner, createTimerStore } from '../../../src/store/timers.js';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-06-01T12:00:00Z');

let db: SqliteDatabase;
beforeEach(() => {
  db = openDatabase(':memory:');
});
afterEach(() => db.close());

const ids = (sql: string): string[] => db.prepare(sql).pluck().all() as string[];
const plan = (sql: string): string =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('s', 1, 1) as { detail: string }[])
    .map((r) => r.detail)
    .join('; ');

describe('pruning published commands', () => {
  const addCommand = (id: string, saga: string, at: number) =>
    createOutboxWriter(db)(id, saga, 'i1', 'commands.x', '{}', at, 1);
  const publish = (id: string, at: number) =>
    createOutboxReader(db).markPublished(
      [{ commandId: id, subject: 'commands.x', body: '{}', position: 1 }],
      at,
    );

  it('deletes the saga rows published before the cut, and keeps unpublished, recent and other sagas rows', () => {
    addCommand('old', 's', NOW - 3 * HOUR);
    publish('old', NOW - 2 * HOUR);
    addCommand('older-unpublished', 's', NOW - 30 * HOUR);
    addCommand('recent', 's', NOW - 3 * HOUR);
    publish('recent', NOW - HOUR / 2);
    addCommand('other-saga', 't', NOW - 3 * HOUR);
    publish('other-saga', NOW - 2 * HOUR);

    expect(createPublishedPruner(db)('s', NOW - HOUR, 100)).toBe(1);
    expect(ids('SELECT command_id FROM prosa_outbox ORDER BY command_id')).toEqual([
      'older-unpublished',
      'other-saga',
      'recent',
    ]);
  });

  it('deletes at most `limit` rows per call', () => {
    for (let i = 0; i < 7; i++) {
      addCommand(`c${i}`, 's', NOW - 3 * HOUR);
      publish(`c${i}`, NOW - 2 * HOUR);
    }
    const prune = createPublishedPruner(db);
    expect([prune('s', NOW, 3), prune('s', NOW, 3), prune('s', NOW, 3), prune('s', NOW, 3)]).toEqual([
      3, 3, 1, 0,
    ]);
    expect(ids('SELECT command_id FROM prosa_outbox')).toEqual([]);
  });

  it('finds the rows through the pending index', () => {
    expect(
      plan(
        'SELECT rowid FROM prosa_outbox WHERE saga = ? AND published_at IS NOT NULL AND published_at < ? LIMIT ?',
      ),
    ).toContain('INDEX prosa_outbox_pending');
  });
});

describe('pruning ended timers', () => {
  const start = (id: string, saga: string, at: number) =>
    createTimerStore(db).start(
      saga,
      { timerId: id, instance: 'i1', name: id, dueAt: at + HOUR, state: '"waiting"', correlationId: 'c' },
      at,
    );

  it('deletes fired and cancelled timers ended before the cut, and keeps pending, recent and other sagas timers', () => {
    const timers = createTimerStore(db);
    start('fired-old', 's', NOW - 50 * HOUR);
    timers.end('fired-old', 'fired', NOW - 49 * HOUR);
    start('cancelled-old', 's', NOW - 50 * HOUR);
    timers.end('cancelled-old', 'cancelled', NOW - 48 * HOUR);
    start('pending-old', 's', NOW - 50 * HOUR); // overdue and old: still pending, so it stays
    start('fired-recent', 's', NOW - 50 * HOUR);
    timers.end('fired-recent', 'fired', NOW - HOUR);
    start('other-saga', 't', NOW - 50 * HOUR);
    timers.end('other-saga', 'fired', NOW - 49 * HOUR);

    expect(createEndedTimerPruner(db)('s', NOW - 24 * HOUR, 100)).toBe(2);
    expect(ids('SELECT timer_id FROM prosa_timers ORDER BY timer_id')).toEqual([
      'fired-recent',
      'other-saga',
      'pending-old',
    ]);
    expect(db.prepare("SELECT status FROM prosa_timers WHERE timer_id = 'pending-old'").pluck().get()).toBe(
      'pending',
    );
  });

  it('deletes at most `limit` rows per call', () => {
    const timers = createTimerStore(db);
    for (let i = 0; i < 5; i++) {
      start(`t${i}`, 's', NOW - 50 * HOUR);
      timers.end(`t${i}`, 'cancelled', NOW - 49 * HOUR);
    }
    const prune = createEndedTimerPruner(db);
    expect([prune('s', NOW, 2), prune('s', NOW, 2), prune('s', NOW, 2), prune('s', NOW, 2)]).toEqual([
      2, 2, 1, 0,
    ]);
  });

  it('finds the rows through the ended index, which holds no pending timer', () => {
    expect(
      plan(
        "SELECT rowid FROM prosa_timers WHERE saga = ? AND ended_at IS NOT NULL AND ended_at < ? AND status <> 'pending' LIMIT ?",
      ),
    ).toContain('INDEX prosa_timers_ended');
  });
});

describe('pruning finished saga records', () => {
  it('deletes the saga records finished before the cut, a bounded batch at a time, and keeps recent and other sagas ones', () => {
    const instances = createSagaInstanceStore(db);
    for (let i = 0; i < 3; i++) instances.finish('s', `old${i}`, NOW - 8 * 24 * HOUR, '"done"', `e:${i}`);
    instances.finish('s', 'recent', NOW - 24 * HOUR, '"done"', 'e:9');
    instances.finish('t', 'other-saga', NOW - 8 * 24 * HOUR, '"done"', 'e:1');

    const prune = createFinishedPruner(db);
    expect(prune('s', NOW - 7 * 24 * HOUR, 2)).toBe(2);
    expect(prune('s', NOW - 7 * 24 * HOUR, 2)).toBe(1);
    expect(prune('s', NOW - 7 * 24 * HOUR, 2)).toBe(0);
    expect(ids('SELECT instance FROM prosa_saga_finished ORDER BY instance')).toEqual([
      'other-saga',
      'recent',
    ]);
  });

  it('finds the rows through the finished_at index', () => {
    expect(
      plan('SELECT rowid FROM prosa_saga_finished WHERE saga = ? AND finished_at < ? LIMIT ?'),
    ).toContain('INDEX prosa_saga_finished_at');
  });
});
