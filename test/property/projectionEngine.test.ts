import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { type DeliveryStep, replay } from '../../src/testkit/replay.js';
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
const step: fc.Arbitrary<DeliveryStep> = fc.oneof(
  fc.record({
    kind: fc.constant('batch' as const),
    size: fc.integer({ min: 1, max: 8 }),
    redeliver: fc.integer({ min: 0, max: 5 }),
  }),
  fc.record({ kind: fc.constant('crash-before-commit' as const), size: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('crash-after-commit' as const), size: fc.integer({ min: 1, max: 8 }) }),
  fc.constant({ kind: 'passivate' as const }),
);
const rows = (r: ReturnType<typeof replay>) =>
  r.db.prepare('SELECT id, balance, open, events FROM accounts ORDER BY id').all();

describe('projection engine replay', () => {
  test.prop(
    [fc.array(event, { maxLength: 60 }), fc.array(step, { maxLength: 30 }), fc.integer({ min: 1, max: 6 })],
    { numRuns: 300 },
  )(
    'any batching, redelivery, crash point and passivation pressure gives the reference fold',
    (events, steps, maxActors) => {
      const result = replay(ledger, ledgerMessages(events), { steps, maxActors });
      expect(rows(result)).toEqual(referenceLedger(events));
      expect(result.checkpoint).toBe(events.length);
    },
  );
});
