import { describe, expect, it } from 'vitest';
import { createProjectionEngine } from '../../../src/engine/projectionEngine.js';
import { openDatabase, type SqliteDatabase } from '../../../src/store/database.js';
import { type LedgerEvent, ledger, ledgerMessages } from '../../support/fixtures/ledger.js';

const rows = (db: SqliteDatabase) =>
  db.prepare('SELECT id, balance, open, events FROM accounts ORDER BY id').all();
const open = (account: string): LedgerEvent => ({ type: 'Opened', account });
const deposit = (account: string, amount: number): LedgerEvent => ({ type: 'Deposited', account, amount });

describe('projection engine', () => {
  describe('when a batch is applied', () => {
    it('writes one row per entity and the checkpoint in one transaction', () => {
      const db = openDatabase(':memory:');
      const engine = createProjectionEngine(ledger, db);
      const result = engine.applyBatch(
        ledgerMessages([open('a'), deposit('a', 5), open('b'), deposit('a', 2)]),
      );
      expect(result).toEqual({ applied: 4, skipped: 0, waited: 0, deadLetters: [], checkpoint: 4 });
      expect(rows(db)).toEqual([
        { id: 'a', balance: 7, open: 1, events: 3 },
        { id: 'b', balance: 0, open: 1, events: 1 },
      ]);
      expect(db.prepare("SELECT seq FROM prosa_checkpoints WHERE worker = 'ledger'").pluck().get()).toBe(4);
    });

    it('writes no row for an entity whose state is tagged no-row', () => {
      const db = openDatabase(':memory:');
      createProjectionEngine(ledger, db).applyBatch(ledgerMessages([deposit('ghost', 5)]));
      expect(rows(db)).toEqual([]);
    });
  });

  describe('when messages at or below the checkpoint come again', () => {
    it('skips them, so a redelivered batch changes nothing', () => {
      const db = openDatabase(':memory:');
      const engine = createProjectionEngine(ledger, db);
      const batch = ledgerMessages([open('a'), deposit('a', 5)]);
      engine.applyBatch(batch);
      const again = engine.applyBatch([...batch, ...ledgerMessages([deposit('a', 1)], 3)]);
      expect(again).toMatchObject({ applied: 1, skipped: 2, checkpoint: 3 });
      expect(rows(db)).toEqual([{ id: 'a', balance: 6, open: 1, events: 3 }]);
    });
  });

  describe('when the process crashes before a commit', () => {
    it('a new engine on the same file resumes from the last commit', () => {
      const db = openDatabase(':memory:');
      const first = createProjectionEngine(ledger, db);
      first.applyBatch(ledgerMessages([open('a'), deposit('a', 5)]));
      // The second engine knows nothing of the first's live actors: only SQLite.
      const second = createProjectionEngine(ledger, db);
      expect(second.checkpoint).toBe(2);
      second.applyBatch(ledgerMessages([open('a'), deposit('a', 5), deposit('a', 1)]));
      expect(rows(db)).toEqual([{ id: 'a', balance: 6, open: 1, events: 3 }]);
    });
  });

  describe('when live actors exceed maxActors', () => {
    it('passivates the least recently used and restores it from its snapshot, also within one batch', () => {
      const db = openDatabase(':memory:');
      const engine = createProjectionEngine(ledger, db, { maxActors: 1 });
      engine.applyBatch(
        ledgerMessages([open('a'), open('b'), deposit('a', 3), deposit('b', 4), deposit('a', 1)]),
      );
      expect(engine.liveActors).toBe(1);
      engine.applyBatch(ledgerMessages([deposit('b', 10)], 6));
      expect(rows(db)).toEqual([
        { id: 'a', balance: 4, open: 1, events: 3 },
        { id: 'b', balance: 14, open: 1, events: 3 },
      ]);
    });
  });

  describe('when an event cannot be decoded', () => {
    it('records a dead letter with the reason and applies the rest', () => {
      const db = openDatabase(':memory:');
      const engine = createProjectionEngine(ledger, db);
      const result = engine.applyBatch(ledgerMessages([open('a'), 'not json', deposit('a', 2)]));
      expect(result.deadLetters).toEqual([{ seq: 2, subject: 'ledger.raw', reason: 'body is not JSON' }]);
      expect(result.checkpoint).toBe(3);
      expect(rows(db)).toEqual([{ id: 'a', balance: 2, open: 1, events: 2 }]);
      expect(
        db.prepare('SELECT stream_seq, reason, CAST(body AS TEXT) AS body FROM prosa_dead_letters').all(),
      ).toEqual([{ stream_seq: 2, reason: 'body is not JSON', body: 'not json' }]);
    });
  });

  describe('when applying an event throws inside the machine, with deadLetters unordered', () => {
    it('dead-letters that event and keeps every other event of the batch applied exactly once', () => {
      const db = openDatabase(':memory:');
      const engine = createProjectionEngine(ledger, db, { deadLetters: 'unordered' });
      const result = engine.applyBatch(
        ledgerMessages([
          open('a'),
          deposit('a', 5),
          { type: 'Explode', account: 'a' },
          deposit('a', 1),
          open('b'),
        ]),
      );
      expect(result.deadLetters).toHaveLength(1);
      expect(result.deadLetters[0]).toMatchObject({ seq: 3 });
      expect(result.deadLetters[0]?.reason).toMatch(/applying Explode to account a failed: boom/);
      expect(rows(db)).toEqual([
        { id: 'a', balance: 6, open: 1, events: 3 },
        { id: 'b', balance: 0, open: 1, events: 1 },
      ]);
    });
  });

  describe('when an actor cannot start from its stored snapshot', () => {
    it('dead-letters the events that reach it, with the reason, instead of ignoring them', () => {
      const db = openDatabase(':memory:');
      createProjectionEngine(ledger, db).applyBatch(ledgerMessages([open('a'), open('b')]));
      // A state the machine no longer has (a release renamed it, say). The ledger's row holds its
      // actor's state (prosa_state), the context being the row.
      db.prepare(
        `UPDATE accounts SET prosa_state = json_set(prosa_state, '$.v', 'vanished') WHERE id = 'a'`,
      ).run();
      const engine = createProjectionEngine(ledger, db);
      const result = engine.applyBatch(ledgerMessages([deposit('a', 5), deposit('b', 1)], 3));
      expect(result.deadLetters).toHaveLength(1);
      expect(result.deadLetters[0]).toMatchObject({ seq: 3 });
      expect(result.deadLetters[0]?.reason).toMatch(/cannot start the account actor a: .*vanished/);
      expect(rows(db)).toEqual([
        { id: 'a', balance: 0, open: 1, events: 1 },
        { id: 'b', balance: 1, open: 1, events: 2 },
      ]);
    });
  });

  describe('when onError is stop', () => {
    it('commits what came before the bad event and stops at it', () => {
      const db = openDatabase(':memory:');
      const engine = createProjectionEngine(ledger, db, { onError: 'stop' });
      const result = engine.applyBatch(ledgerMessages([open('a'), 'bad', deposit('a', 1)]));
      expect(result.stoppedAt).toMatchObject({ seq: 2, reason: 'body is not JSON' });
      expect(result.checkpoint).toBe(1);
      expect(rows(db)).toEqual([{ id: 'a', balance: 0, open: 1, events: 1 }]);
    });
  });

  describe('when one event concerns several entities', () => {
    it('feeds it to each of their actors', () => {
      const db = openDatabase(':memory:');
      const engine = createProjectionEngine(ledger, db);
      engine.applyBatch(
        ledgerMessages([open('a'), open('b'), { type: 'Transferred', account: 'a', to: 'b', amount: 3 }]),
      );
      expect(rows(db)).toEqual([
        { id: 'a', balance: -3, open: 1, events: 2 },
        { id: 'b', balance: 3, open: 1, events: 2 },
      ]);
    });
  });
});
