import fc from 'fast-check';
import { describe, it } from 'vitest';
import { checkProjection } from '../../src/testkit/index.js';
import { type LedgerEvent, ledger, ledgerMessages } from '../support/fixtures/ledger.js';

// The plain reference: one loop over the events.
function referenceLedger(events: readonly LedgerEvent[]) {
  const accounts = new Map<string, { id: string; balance: number; open: number; events: number }>();
  const state = new Map<string, 'absent' | 'open' | 'closed'>();
  for (const e of events) {
    const touched = e.type === 'Transferred' ? [e.account, e.to] : [e.account];
    for (const id of touched) {
      const s = state.get(id) ?? 'absent';
      const row = accounts.get(id) ?? { id, balance: 0, open: 0, events: 0 };
      if (s !== 'open' && e.type === 'Opened') {
        state.set(id, 'open');
        accounts.set(id, { ...row, open: 1, events: row.events + 1 });
      } else if (s === 'open' && e.type === 'Deposited')
        accounts.set(id, { ...row, balance: row.balance + e.amount, events: row.events + 1 });
      else if (s === 'open' && e.type === 'Transferred') {
        accounts.set(id, {
          ...row,
          balance: row.balance + (e.account === id ? -e.amount : e.amount),
          events: row.events + 1,
        });
      } else if (s === 'open' && e.type === 'Closed') {
        state.set(id, 'closed');
        accounts.set(id, { ...row, open: 0, events: row.events + 1 });
      }
    }
  }
  return [...accounts.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}

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
