// `prosa status` says how big the database is (issue 13): the file, its WAL, and its free pages.
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/config.js';
import { collectStatus } from '../../../src/ops/status.js';
import { openDatabase, type SqliteDatabase } from '../../../src/store/database.js';
import { tempDir } from '../../support/runtimeHarness.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const dir = tempDir();
  dirs.push(dir);
  const sqlitePath = join(dir, 'prosa.db');
  const config = resolveConfig({ dataDir: dir, sqlite: { path: sqlitePath } }, { env: {} });
  return { sqlitePath, config };
}

const fill = (db: SqliteDatabase, rows: number) => {
  db.exec('CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, body TEXT)');
  const insert = db.prepare('INSERT INTO filler (body) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run('x'.repeat(1_000));
  })();
};

describe('collectStatus database size', () => {
  it('gives the file and WAL sizes as on disk, and the pages and free pages of the open file', async () => {
    const { sqlitePath, config } = setup();
    const db = openDatabase(sqlitePath);
    try {
      fill(db, 2_000);
      db.pragma('wal_checkpoint(TRUNCATE)');
      const checkpointed = (await collectStatus({ config, db, jsm: undefined })).database;
      const pages = db.pragma('page_count', { simple: true }) as number;
      expect(pages).toBeGreaterThan(500); // 2,000 rows of 1 kB
      expect(checkpointed).toEqual({
        path: sqlitePath,
        bytes: pages * 4_096,
        walBytes: 0,
        pageSize: 4_096,
        pages,
        freePages: 0,
      });
      expect(checkpointed?.bytes).toBe(statSync(sqlitePath).size);

      db.exec('DELETE FROM filler');
      const afterDelete = (await collectStatus({ config, db, jsm: undefined })).database;
      expect(afterDelete?.walBytes).toBe(statSync(`${sqlitePath}-wal`).size);
      expect(afterDelete?.walBytes).toBeGreaterThan(0);
      expect(afterDelete?.bytes).toBe(pages * 4_096); // the file keeps its pages: free ones
      expect(afterDelete?.freePages).toBe(db.pragma('freelist_count', { simple: true }));
      expect(afterDelete?.freePages).toBeGreaterThan(pages / 2); // the filler was most of it
    } finally {
      db.close();
    }
  });

  it('gives zero bytes and no page counts when there is no database file yet', async () => {
    const { sqlitePath, config } = setup();
    expect((await collectStatus({ config, db: undefined, jsm: undefined })).database).toEqual({
      path: sqlitePath,
      bytes: 0,
      walBytes: 0,
      pageSize: null,
      pages: null,
      freePages: null,
    });
  });
});
