// Outbox positions: what a saga lease's `through` covers, and what a new active process marks as
// published by the former one (issue 17).
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../../../src/store/database.js';
import {
  createOutboxReader,
  createOutboxWriter,
  eventOfPosition,
  eventPosition,
  POSITIONS_PER_EVENT,
} from '../../../src/store/outbox.js';
import { tempDir } from '../../support/runtimeHarness.js';

let db: SqliteDatabase;
beforeEach(() => {
  db = openDatabase(':memory:');
});
afterEach(() => db.close());

const add = (id: string, position: number, saga = 's') =>
  createOutboxWriter(db)(id, saga, 'i1', 'commands.x', '{}', 1, position);
const pendingIds = (saga = 's') =>
  createOutboxReader(db)
    .pending(saga)
    .map((r) => r.commandId);

describe('outbox positions', () => {
  it('puts room for timer firings between two events', () => {
    expect(eventPosition(7)).toBe(7 * POSITIONS_PER_EVENT);
    expect(eventOfPosition(eventPosition(7) + 3)).toBe(7);
    expect(eventOfPosition(eventPosition(8) - 1)).toBe(7);
  });

  it('publishedThrough is one below the lowest unpublished row', () => {
    const outbox = createOutboxReader(db);
    add('a', eventPosition(3));
    add('b', eventPosition(5));
    outbox.markPublished(outbox.pending('s').slice(0, 1), 2);
    expect(outbox.publishedThrough('s', 6)).toBe(eventPosition(5) - 1);
  });

  it('publishedThrough with nothing unpublished covers the checkpoint and a firing after it', () => {
    const outbox = createOutboxReader(db);
    add('a', eventPosition(3));
    add('fired', eventPosition(6) + 1);
    outbox.markPublished(outbox.pending('s'), 2);
    expect(outbox.publishedThrough('s', 6)).toBe(eventPosition(6) + 1);
    expect(outbox.publishedThrough('s', 9)).toBe(eventPosition(9));
    expect(outbox.highestPosition('s')).toBe(eventPosition(6) + 1);
  });

  it('publishedThrough never claims the next event, even with a firing recorded further ahead', () => {
    const outbox = createOutboxReader(db);
    add('ahead', eventPosition(9) + 2);
    outbox.markPublished(outbox.pending('s'), 2);
    expect(outbox.publishedThrough('s', 6)).toBe(eventPosition(7) - 1);
  });

  it('markPublishedThrough marks the rows at or below a position of that saga only', () => {
    add('a', eventPosition(3));
    add('b', eventPosition(4) + 1);
    add('c', eventPosition(5));
    add('other', eventPosition(3), 't');
    expect(createOutboxReader(db).markPublishedThrough('s', eventPosition(4) + 1, 9)).toBe(2);
    expect(pendingIds()).toEqual(['c']);
    expect(pendingIds('t')).toEqual(['other']);
  });
});

describe('a database from before positions', () => {
  it('gets the column, and its unpublished rows are never taken as published by another process', () => {
    const path = `${tempDir('prosa-outbox-')}/old.db`;
    const old = new Database(path);
    old.exec(`CREATE TABLE prosa_outbox (command_id TEXT PRIMARY KEY, saga TEXT NOT NULL, instance TEXT NOT NULL,
      subject TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL, published_at INTEGER)`);
    old.prepare("INSERT INTO prosa_outbox VALUES ('legacy', 's', 'i1', 'commands.x', '{}', 1, NULL)").run();
    old.close();
    const upgraded = openDatabase(path);
    try {
      const outbox = createOutboxReader(upgraded);
      expect(outbox.markPublishedThrough('s', eventPosition(1_000), 2)).toBe(0);
      expect(outbox.pending('s').map((r) => [r.commandId, r.position])).toEqual([['legacy', null]]);
    } finally {
      upgraded.close();
    }
  });
});
