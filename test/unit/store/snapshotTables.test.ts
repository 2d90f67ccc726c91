// Snapshot tables (saga instances, actor snapshots) are rowid tables: a WITHOUT ROWID table keeps
// about 1 KB of a row in its page and spills the rest into an overflow page of its own. A database
// an older prosa created is moved once, at open, rows kept.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/store/database.js';
import { createSagaInstanceStore } from '../../../src/store/sagaInstances.js';
import { tempDir } from '../../support/runtimeHarness.js';

const tableSql = (db: Database.Database, name: string) =>
  db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck().get(name) as string;

/** What prosa 0.1 created, with a few rows. */
function olderDatabase(path: string): void {
  const old = new Database(path);
  old.exec(`CREATE TABLE prosa_saga_instances (
     saga TEXT NOT NULL, instance TEXT NOT NULL, snapshot TEXT NOT NULL, state TEXT NOT NULL,
     updated_at TEXT NOT NULL, PRIMARY KEY (saga, instance)) WITHOUT ROWID`);
  old.exec(`CREATE TABLE prosa_actor_snapshots (
     worker TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, snapshot TEXT NOT NULL,
     PRIMARY KEY (worker, kind, key)) WITHOUT ROWID`);
  const big = JSON.stringify({ context: { active: 'x'.repeat(5_000) } });
  old.prepare('INSERT INTO prosa_saga_instances VALUES (?, ?, ?, ?, ?)').run('s', 'i1', big, '"a"', 't');
  old.prepare('INSERT INTO prosa_saga_instances VALUES (?, ?, ?, ?, ?)').run('s', 'i2', '{}', '"b"', 't');
  old.prepare('INSERT INTO prosa_actor_snapshots VALUES (?, ?, ?, ?)').run('p', 'k', 'id1', '{"v":1}');
  old.close();
}

describe('snapshot tables', () => {
  it('are created as rowid tables', () => {
    const db = openDatabase(':memory:');
    expect(tableSql(db, 'prosa_saga_instances')).not.toMatch(/WITHOUT ROWID/i);
    expect(tableSql(db, 'prosa_actor_snapshots')).not.toMatch(/WITHOUT ROWID/i);
    db.close();
  });

  it('of an older database are moved at open, rows and keys kept, and stay moved', () => {
    const path = join(tempDir('prosa-snapshot-tables-'), 'old.sqlite');
    olderDatabase(path);
    for (let open = 0; open < 2; open++) {
      const db = openDatabase(path);
      expect(tableSql(db, 'prosa_saga_instances')).not.toMatch(/WITHOUT ROWID/i);
      expect(tableSql(db, 'prosa_actor_snapshots')).not.toMatch(/WITHOUT ROWID/i);
      const instances = createSagaInstanceStore(db);
      expect(instances.load('s', 'i1')).toContain('x'.repeat(5_000));
      expect(instances.count('s')).toBe(2);
      // The primary key still holds: an upsert replaces, it does not add.
      instances.save('s', 'i2', '{"n":2}', '"c"', 't2');
      expect(instances.count('s')).toBe(2);
      expect(instances.load('s', 'i2')).toBe('{"n":2}');
      expect(db.prepare('SELECT snapshot FROM prosa_actor_snapshots').pluck().all()).toEqual(['{"v":1}']);
      expect(
        db.prepare("SELECT count(*) FROM sqlite_schema WHERE name LIKE '%without_rowid'").pluck().get(),
      ).toBe(0);
      db.close();
    }
  });
});
