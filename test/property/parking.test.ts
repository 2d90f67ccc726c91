/**
 * An entity's order holds around a bad event: whatever the batching, redelivery, crash point and
 * passivation, a worker leaves the rows and the waiting set of one clean pass; and after the fix,
 * retrying its dead letters (even when a retry dies in its commit) gives what the fixed code gives
 * in one clean pass, so nothing waited is lost, applied twice or applied out of order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SqliteDatabase } from '../../src/store/database.js';
import { checkProjection } from '../../src/testkit/index.js';
import { cleanReplay, type DeliveryStep, replay, retryDeadLetters } from '../../src/testkit/replay.js';
import { type LedgerEvent, ledger, ledgerFixed, ledgerMessages } from '../support/fixtures/ledger.js';
import { referenceLedger } from '../support/referenceLedger.js';

const account = fc.constantFrom('a', 'b', 'c');
/** Ledger events with bad ones of known accounts: Explode throws in the machine, a bad amount does not validate. */
const event: fc.Arbitrary<LedgerEvent | string> = fc.oneof(
  { weight: 3, arbitrary: account.map((a) => ({ type: 'Opened' as const, account: a })) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(account, fc.integer({ min: 1, max: 9 }))
      .map(([a, amount]) => ({ type: 'Deposited' as const, account: a, amount })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(account, account, fc.integer({ min: 1, max: 9 }))
      .filter(([a, b]) => a !== b)
      .map(([a, to, amount]) => ({ type: 'Transferred' as const, account: a, to, amount })),
  },
  { weight: 2, arbitrary: account.map((a) => ({ type: 'Closed' as const, account: a })) },
  { weight: 2, arbitrary: account.map((a) => ({ type: 'Explode' as const, account: a })) },
  {
    weight: 1,
    arbitrary: account.map((a) => JSON.stringify({ type: 'Deposited', account: a, amount: 'x' })),
  },
  { weight: 1, arbitrary: fc.constant('not json') },
);
const stream = fc.array(event, { maxLength: 40, size: 'medium' }).map((events) => ledgerMessages(events));

const size = fc.integer({ min: 1, max: 6 });
const step: fc.Arbitrary<DeliveryStep> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('batch' as const), size, redeliver: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash-before-commit' as const), size }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash-after-commit' as const), size }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'passivate' as const }) },
);
const plan = fc.record({
  steps: fc.array(step, { maxLength: 20 }),
  restBatchSize: size,
  maxActors: fc.integer({ min: 1, max: 5 }),
});

const accounts = (db: SqliteDatabase) =>
  db.prepare('SELECT id, balance, open, events FROM accounts ORDER BY id').all();
const waiting = (db: SqliteDatabase) =>
  db.prepare("SELECT stream_seq FROM prosa_waiting WHERE worker = 'ledger' ORDER BY 1").pluck().all();
const parked = (db: SqliteDatabase) =>
  db.prepare("SELECT kind, key, behind_seq FROM prosa_parked WHERE worker = 'ledger' ORDER BY 1, 2").all();

describe('an entity whose event is dead-lettered', () => {
  it('waits the same under any batching, redelivery, crash point and passivation as in one clean pass, and the reference told which events are bad agrees', () =>
    checkProjection(ledger, {
      events: stream,
      reference: (events) => ({ accounts: referenceLedger(events) }),
      maxActors: 5,
      maxBatchSize: 6,
      numRuns: 300,
    }));

  it('after the fix, retrying its dead letters (a retry may die in its commit) gives the rows and the waiting set of the fixed code in one clean pass', () => {
    fc.assert(
      fc.property(stream, plan, fc.array(fc.nat(6), { maxLength: 3 }), (messages, p, crashAt) => {
        const run = replay(ledger, messages, p);
        retryDeadLetters(ledgerFixed, run.db, messages, { crashAt: new Set(crashAt) });
        const fixed = cleanReplay(ledgerFixed, messages);
        expect(accounts(run.db)).toEqual(accounts(fixed.db));
        expect(waiting(run.db)).toEqual(waiting(fixed.db));
        expect(parked(run.db)).toEqual(parked(fixed.db));
        run.db.close();
        fixed.db.close();
      }),
      { numRuns: 300 },
    );
  });
});
