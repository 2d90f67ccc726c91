/**
 * How big the SQLite file is: its bytes on disk and its write-ahead log's, and, from an open
 * handle, its pages and how many of them are free (space a VACUUM would give back).
 */
import { statSync } from 'node:fs';
import type { SqliteDatabase } from './sqlite.js';

export interface DatabaseSize {
  path: string;
  /** The database file's size (0 when it does not exist). */
  bytes: number;
  /** The `-wal` file's size (0 when there is none). */
  walBytes: number;
  /** Pages of `pageSize` bytes in the database, and the free ones among them (null without a handle). */
  pageSize: number | null;
  pages: number | null;
  freePages: number | null;
}

const sizeOf = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

/** The size of the database at `path`; `db`, when open on it, adds the page counts. */
export function readDatabaseSize(path: string, db?: SqliteDatabase): DatabaseSize {
  const pragma = (name: string) => (db ? (db.pragma(name, { simple: true }) as number) : null);
  return {
    path,
    bytes: sizeOf(path),
    walBytes: sizeOf(`${path}-wal`),
    pageSize: pragma('page_size'),
    pages: pragma('page_count'),
    freePages: pragma('freelist_count'),
  };
}
