import { describe, expect, it } from 'vitest';
import { createProjectionEngine } from '../../../src/engine/projectionEngine.js';
import { openDatabase, type SqliteDatabase } from '../../../src/store/database.js';
import { markDeadLetterSkipped, retryRecorder } from '../../../src/store/deadLetters.js';
import { countWaitingBehind } from '../../../src/store/waiting.js';
import { systemClock } from '../../../src/time/clock.js';
import { type LedgerEvent, ledger, ledgerFixed, ledgerMessages } from '../../support/fixtures/ledger.js';

const rows = (db: SqliteDatabase) =>
  db.prepare('SELECT id, balance, open, events FROM accounts ORDER BY id').all();
const open = (account: string): LedgerEvent => ({ type: 'Opened', account });
const deposit = (account: string, amount: number): LedgerEvent => ({ type: 'Deposited', account, amount });
const explode = (account: string): LedgerEvent => ({ type: 'Explode', account });
const transfer = (account: string, to: string, amount: number): LedgerEvent => ({
  type: 'Transferred',
  account,
  to,
  amount,
});
const waitingSeqs = (db: SqliteDatabase) =>
  db
    .prepare("SELECT stream_seq FROM prosa_waiting WHERE worker = 'ledger' ORDER BY stream_seq")
    .pluck()
    .all();
const retried = (db: SqliteDatabase) => retryRecorder(db, 'ledger', 'LEDGER', systemClock);

describe('an entity whose event is dead-lettered', () => {
  it('waits: its later events are recorded, not applied, and other entities go on', () => {
    const db = openDatabase(':memory:');
    const engine = createProjectionEngine(ledger, db);
    const result = engine.applyBatch(
      ledgerMessages([open('a'), open('b'), explode('a'), deposit('a', 5), deposit('b', 2), deposit('a', 1)]),
    );
    expect(result).toMatchObject({ applied: 3, waited: 2, checkpoint: 6 });
    expect(result.deadLetters.map((d) => d.seq)).toEqual([3]);
    expect(rows(db)).toEqual([
      { id: 'a', balance: 0, open: 1, events: 1 },
      { id: 'b', balance: 2, open: 1, events: 2 },
    ]);
    expect(waitingSeqs(db)).toEqual([4, 6]);
    expect(engine.waiting).toBe(2);
    expect(countWaitingBehind(db, 'ledger').get(3)).toBe(2);
  });

  it('an invalid event that names its entity parks it too; one that names none parks nothing', () => {
    const db = openDatabase(':memory:');
    const engine = createProjectionEngine(ledger, db);
    const bad = JSON.stringify({ type: 'Deposited', account: 'a', amount: 'many' });
    engine.applyBatch(ledgerMessages([open('a'), bad, deposit('a', 1), 'not json', open('b')]));
    expect(waitingSeqs(db)).toEqual([3]);
    expect(rows(db)).toEqual([
      { id: 'a', balance: 0, open: 1, events: 1 },
      { id: 'b', balance: 0, open: 1, events: 1 },
    ]);
  });

  it('an event of several entities waits if one waits, and the others then wait behind it', () => {
    const db = openDatabase(':memory:');
    const engine = createProjectionEngine(ledger, db);
    engine.applyBatch(
      ledgerMessages([open('a'), open('b'), explode('a'), transfer('a', 'b', 3), deposit('b', 10)]),
    );
    expect(waitingSeqs(db)).toEqual([4, 5]);
    expect(rows(db)).toEqual([
      { id: 'a', balance: 0, open: 1, events: 1 },
      { id: 'b', balance: 0, open: 1, events: 1 },
    ]);
  });

  it('a retry after the fix applies the dead letter, then what waited, in stream order, across restarts', () => {
    const db = openDatabase(':memory:');
    createProjectionEngine(ledger, db).applyBatch(
      ledgerMessages([
        open('a'),
        open('b'),
        explode('a'),
        transfer('a', 'b', 3),
        deposit('b', 10),
        deposit('a', 1),
      ]),
    );
    const fixed = createProjectionEngine(ledgerFixed, db);
    expect(fixed.waiting).toBe(3);
    const [outcome] = fixed.applyOutOfOrder(ledgerMessages([explode('a')], 3), retried(db));
    expect(outcome).toEqual({ seq: 3, applied: true, released: { applied: 3, deadLettered: 0 } });
    expect(rows(db)).toEqual([
      { id: 'a', balance: -2, open: 1, events: 4 },
      { id: 'b', balance: 13, open: 1, events: 3 },
    ]);
    expect(waitingSeqs(db)).toEqual([]);
    expect(db.prepare('SELECT count(*) FROM prosa_parked').pluck().get()).toBe(0);
    // and the entity goes on in order
    fixed.applyBatch(ledgerMessages([deposit('a', 2)], 7));
    expect(rows(db)[0]).toEqual({ id: 'a', balance: 0, open: 1, events: 5 });
  });

  it('a retry whose entities now wait behind an earlier dead letter is not tried, and says which', () => {
    const db = openDatabase(':memory:');
    const engine = createProjectionEngine(ledger, db);
    // 3 names no entity when it is dead-lettered; the code that runs at the retry reads account a in it.
    engine.applyBatch(ledgerMessages([open('a'), explode('a'), 'not json', deposit('a', 1)]));
    expect(waitingSeqs(db)).toEqual([4]);
    const [held] = engine.applyOutOfOrder(ledgerMessages([deposit('a', 5)], 3), retried(db));
    expect(held).toEqual({
      seq: 3,
      applied: false,
      reason: 'its entities wait behind dead letter 2: retry or skip that one first',
      waitsBehind: [2],
    });
    expect(rows(db)).toEqual([{ id: 'a', balance: 0, open: 1, events: 1 }]);
    expect(
      db
        .prepare(
          "SELECT attempts, resolution FROM prosa_dead_letters WHERE worker = 'ledger' AND stream_seq = 3",
        )
        .get(),
    ).toEqual({ attempts: 0, resolution: null });
    // Once 2 is resolved (and what waited behind it applied), 3 applies.
    const fixed = createProjectionEngine(ledgerFixed, db);
    expect(fixed.applyOutOfOrder(ledgerMessages([explode('a')], 2), retried(db))[0]).toMatchObject({
      applied: true,
    });
    expect(fixed.applyOutOfOrder(ledgerMessages([deposit('a', 5)], 3), retried(db))[0]).toEqual({
      seq: 3,
      applied: true,
      released: { applied: 0, deadLettered: 0 },
    });
    expect(rows(db)).toEqual([{ id: 'a', balance: 6, open: 1, events: 4 }]);
  });

  it('a message an operator skipped at a stop is a dead letter that parks its entity like any other', () => {
    const db = openDatabase(':memory:');
    const stopAt = (skips: Map<number, string>) =>
      createProjectionEngine(ledger, db, {
        policy: { verdict: () => 'stop', skipped: (seq) => skips.get(seq) },
      });
    const stopped = stopAt(new Map()).applyBatch(
      ledgerMessages([open('a'), open('b'), explode('a'), deposit('a', 1)]),
    );
    expect(stopped.stoppedAt).toMatchObject({ seq: 3, retry: false });
    // `prosa skip ledger --seq 3`, then the worker goes on from the stop.
    const engine = stopAt(new Map([[3, 'skipped by an operator']]));
    const result = engine.applyBatch(ledgerMessages([explode('a'), deposit('a', 1), deposit('b', 2)], 3));
    expect(result).toMatchObject({ applied: 1, waited: 1, checkpoint: 5 });
    expect(result.deadLetters).toEqual([
      { seq: 3, subject: expect.any(String), reason: 'skipped by an operator' },
    ]);
    expect(waitingSeqs(db)).toEqual([4]);
    expect(engine.skipDeadLetter(3, () => {})).toEqual({ applied: 1, deadLettered: 0 });
    expect(rows(db)).toEqual([
      { id: 'a', balance: 1, open: 1, events: 2 },
      { id: 'b', balance: 2, open: 1, events: 2 },
    ]);
  });

  it('a retry that still fails releases nothing', () => {
    const db = openDatabase(':memory:');
    const engine = createProjectionEngine(ledger, db);
    engine.applyBatch(ledgerMessages([open('a'), explode('a'), deposit('a', 1)]));
    const [outcome] = engine.applyOutOfOrder(ledgerMessages([explode('a')], 2), retried(db));
    expect(outcome).toMatchObject({ seq: 2, applied: false });
    expect(waitingSeqs(db)).toEqual([3]);
  });

  it('a skip gives up on the dead letter and applies what waited; one that fails on release becomes a dead letter and keeps its entity waiting', () => {
    const db = openDatabase(':memory:');
    const engine = createProjectionEngine(ledger, db);
    engine.applyBatch(
      ledgerMessages([
        open('a'),
        open('b'),
        explode('a'),
        deposit('a', 1),
        explode('a'),
        deposit('a', 2),
        deposit('b', 4),
      ]),
    );
    expect(waitingSeqs(db)).toEqual([4, 5, 6]);
    const released = engine.skipDeadLetter(3, () => markDeadLetterSkipped(db, 'ledger', 3, 'now'));
    expect(released).toEqual({ applied: 1, deadLettered: 1 });
    expect(waitingSeqs(db)).toEqual([6]);
    expect(
      db
        .prepare("SELECT stream_seq, resolution FROM prosa_dead_letters WHERE worker = 'ledger' ORDER BY 1")
        .all(),
    ).toEqual([
      { stream_seq: 3, resolution: 'skipped' },
      { stream_seq: 5, resolution: null },
    ]);
    expect(rows(db)).toEqual([
      { id: 'a', balance: 1, open: 1, events: 2 },
      { id: 'b', balance: 4, open: 1, events: 2 },
    ]);
    // After a restart, the same: the waiting event is behind dead letter 5.
    const again = createProjectionEngine(ledger, db);
    expect(again.skipDeadLetter(5, () => {})).toEqual({ applied: 1, deadLettered: 0 });
    expect(rows(db)[0]).toEqual({ id: 'a', balance: 3, open: 1, events: 3 });
  });

  it('with deadLetters unordered nothing waits', () => {
    const db = openDatabase(':memory:');
    const engine = createProjectionEngine(ledger, db, { deadLetters: 'unordered' });
    engine.applyBatch(ledgerMessages([open('a'), explode('a'), deposit('a', 1)]));
    expect(waitingSeqs(db)).toEqual([]);
    expect(rows(db)).toEqual([{ id: 'a', balance: 1, open: 1, events: 2 }]);
  });
});
