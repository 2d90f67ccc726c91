import fc from 'fast-check';
import { describe, it } from 'vitest';
import { checkProjection } from '../../src/testkit/index.js';
import { type LedgerEvent, ledger, ledgerMessages } from '../support/fixtures/ledger.js';
import { referenceLedger } from '../support/referenceLedger.js';

const account = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const event: fc.Arbitrary<LedgerEvent> = fc.oneof(
  account.map((a) => ({ type: 'Opened' as const, account: a })),
  fc
    .tuple(account, fc.integer({ min: 1, max: 9 }))
    .map(([a, amount]) => ({ type: 'Deposited' as const, account: a, amount })),
  fc
    .tuple(account, account, fc.integer({ min: 1, max: 9 }))
    .filter(([a, b]) => a !== b)
    .map(([a, to, amount]) => ({ type: 'Transferred' as const, account: a, to, amount })),
  account.map((a) => ({ type: 'Closed' as const, account: a })),
);
describe('projection engine replay', () => {
  describe('when the ledger is replayed under any batching, redelivery, crash point and passivation pressure', () => {
    it('gives the read model of one clean pass and of the reference fold, checkpoint at the last event', () =>
      checkProjection(ledger, {
        events: fc.array(event, { maxLength: 60 }).map((events) => ledgerMessages(events)),
        reference: (events) => ({ accounts: referenceLedger(events) }),
        allowDeadLetters: false,
        maxActors: 6,
        maxBatchSize: 8,
        maxRedelivered: 5,
        numRuns: 300,
      }));
  });
});
