// Where a projection's entities keep their state: in their row when the context is the row, in a
// snapshot otherwise; and that it comes back the same after passivation and after a restart.

import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { defineProjection } from '../../../src/define/projection.js';
import { createProjectionEngine } from '../../../src/engine/projectionEngine.js';
import { openDatabase, type SqliteDatabase } from '../../../src/store/database.js';
import { type LedgerEvent, ledger, ledgerMessages } from '../../support/fixtures/ledger.js';

const open = (account: string): LedgerEvent => ({ type: 'Opened', account });
const deposit = (account: string, amount: number): LedgerEvent => ({ type: 'Deposited', account, amount });
const close = (account: string): LedgerEvent => ({ type: 'Closed', account });
const snapshotCount = (db: SqliteDatabase) =>
  db.prepare('SELECT count(*) FROM prosa_actor_snapshots').pluck().get() as number;
const stateOf = (db: SqliteDatabase, id: string) =>
  JSON.parse(db.prepare('SELECT prosa_state FROM accounts WHERE id = ?').pluck().get(id) as string) as {
    v: unknown;
    t: string;
  };

describe('entity state', () => {
  describe('when the context is the row', () => {
    it('keeps the state value and column types in the row, and no snapshot', () => {
      const db = openDatabase(':memory:');
      createProjectionEngine(ledger, db).applyBatch(ledgerMessages([open('a'), deposit('a', 5), close('a')]));
      expect(snapshotCount(db)).toBe(0);
      // id, balance, open, events: a string and three numbers.
      expect(stateOf(db, 'a')).toEqual({ v: 'closed', t: 'snnn' });
    });

    it('comes back from the row after a restart, in the state it was left in', () => {
      const db = openDatabase(':memory:');
      createProjectionEngine(ledger, db).applyBatch(ledgerMessages([open('a'), deposit('a', 5), close('a')]));
      const engine = createProjectionEngine(ledger, db);
      // Closed: a deposit is ignored, a new Opened counts.
      engine.applyBatch(ledgerMessages([deposit('a', 100), open('a')], 4));
      expect(db.prepare('SELECT id, balance, open, events FROM accounts').all()).toEqual([
        { id: 'a', balance: 5, open: 1, events: 4 },
      ]);
    });

    it('comes back from a write held in the batch when passivated and asked for again', () => {
      const db = openDatabase(':memory:');
      const engine = createProjectionEngine(ledger, db, { maxActors: 1 });
      engine.applyBatch(
        ledgerMessages([open('a'), open('b'), deposit('a', 3), open('c'), deposit('b', 4), deposit('a', 1)]),
      );
      expect(db.prepare('SELECT id, balance, events FROM accounts ORDER BY id').all()).toEqual([
        { id: 'a', balance: 4, events: 3 },
        { id: 'b', balance: 4, events: 2 },
        { id: 'c', balance: 0, events: 1 },
      ]);
      expect(snapshotCount(db)).toBe(0);
    });
  });

  describe('when a state has no row', () => {
    const toggle = setup({
      types: { context: {} as { id: string; flips: number }, events: {} as { type: 'Flip'; id: string } },
    }).createMachine({
      id: 'toggle',
      initial: 'off',
      context: ({ input }) => ({ id: (input as { id: string }).id, flips: 0 }),
      states: {
        off: {
          tags: 'no-row',
          on: { Flip: { target: 'on', actions: assign({ flips: ({ context }) => context.flips + 1 }) } },
        },
        on: {
          on: { Flip: { target: 'off', actions: assign({ flips: ({ context }) => context.flips + 1 }) } },
        },
      },
    });
    const toggles = defineProjection({
      name: 'toggles',
      source: { stream: 'T', subjects: ['t.>'] },
      decode: (raw) => JSON.parse(new TextDecoder().decode(raw.data)) as { type: 'Flip'; id: string },
      keys: (e) => [['toggle', e.id]],
      entities: { toggle: { machine: toggle, table: 'toggles' } },
      schema: { migrations: ['CREATE TABLE toggles (id TEXT PRIMARY KEY, flips INTEGER)'] },
    });
    const flips = (n: number, from = 1) =>
      Array.from({ length: n }, (_, i) => ({
        subject: 't.x',
        seq: from + i,
        data: new TextEncoder().encode(JSON.stringify({ type: 'Flip', id: 'x' })),
      }));

    it('deletes the row and keeps the state in a snapshot, which a restart restores', () => {
      const db = openDatabase(':memory:');
      createProjectionEngine(toggles, db).applyBatch(flips(2));
      expect(db.prepare('SELECT count(*) FROM toggles').pluck().get()).toBe(0);
      expect(snapshotCount(db)).toBe(1);
      createProjectionEngine(toggles, db).applyBatch(flips(1, 3));
      expect(db.prepare('SELECT id, flips FROM toggles').all()).toEqual([{ id: 'x', flips: 3 }]);
    });
  });

  describe('when the row is derived by row()', () => {
    const derived = defineProjection({
      ...ledger,
      entities: { account: { ...ledger.entities.account, row: (s) => s.context } },
    });

    it('keeps a snapshot beside the row, and no prosa_state column', () => {
      const db = openDatabase(':memory:');
      createProjectionEngine(derived, db).applyBatch(ledgerMessages([open('a')]));
      expect(snapshotCount(db)).toBe(1);
      const columns = (db.prepare('PRAGMA table_info(accounts)').all() as { name: string }[]).map(
        (c) => c.name,
      );
      expect(columns).not.toContain('prosa_state');
    });
  });
});
