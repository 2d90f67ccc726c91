import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deadLetterViews, waitingBehind } from '../../../src/serve/console/deadLetterView.js';
import { openDatabase, type SqliteDatabase } from '../../../src/store/database.js';
import { createWaitingWriter } from '../../../src/store/waiting.js';

let db: SqliteDatabase;
beforeEach(() => {
  db = openDatabase(':memory:');
});
afterEach(() => db.close());

const wait = (seq: number, after: number[], subject = `s.${seq}`) =>
  createWaitingWriter(db, 'w').addWaiting(
    { seq, subject, body: new Uint8Array(), after },
    '2026-01-01T00:00:00Z',
  );

describe('the events waiting behind a dead letter', () => {
  it('counts those that wait directly and those that wait behind a waiting event', () => {
    // 10 and 20 are dead letters; 11 waits for 10; 21 for 20 and 11 (a transfer of two entities); 30 for 21.
    wait(11, [10]);
    wait(21, [20, 11]);
    wait(30, [21]);
    const behind = waitingBehind(db, 'w');
    expect(behind.get(10)?.map((e) => e.seq)).toEqual([11, 21, 30]);
    expect(behind.get(20)?.map((e) => e.seq)).toEqual([21, 30]);
    expect(behind.get(99)).toBeUndefined();
  });

  it('follows every path of a diamond (two waiting events behind one, a third behind both)', () => {
    wait(11, [10]);
    wait(12, [10]);
    wait(13, [11, 12]);
    wait(14, [12]);
    const behind = waitingBehind(db, 'w');
    expect(behind.get(10)?.map((e) => e.seq)).toEqual([11, 12, 13, 14]);
    expect(behind.get(12)?.map((e) => e.seq)).toEqual([13, 14]);
  });

  it("gives each dead letter its worker's list and the count ops gave", () => {
    wait(11, [10], 'notes.a');
    const [view] = deadLetterViews(
      [
        {
          consumer: 'w-durable',
          dlqSeq: 1,
          stream: 'S',
          seq: 10,
          subject: 'notes.a',
          reason: 'bad',
          time: '2026-01-01T00:00:00.000Z',
          data: new TextEncoder().encode('{"x":1}'),
          waiting: 1,
        },
      ],
      () => 'w',
      db,
    );
    expect(view).toMatchObject({
      worker: 'w',
      consumer: 'w-durable',
      seq: 10,
      waiting: 1,
      waitingEvents: [{ seq: 11, subject: 'notes.a' }],
      body: { encoding: 'json', text: '{\n  "x": 1\n}' },
    });
  });
});
