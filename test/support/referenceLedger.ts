/** The ledger fixture's reference: one plain loop over the events, rows in id order. */
import type { LedgerEvent } from './fixtures/ledger.js';

export function referenceLedger(events: readonly LedgerEvent[]) {
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
