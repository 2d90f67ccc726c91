/**
 * The SQLite handle and the helpers every store module and engine writes rows with. Kept apart from
 * `openDatabase` (which creates every module's tables), so the table modules depend on this and
 * nothing depends back on them.
 */
import type Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

/** A column value as better-sqlite3 binds it: objects and arrays as JSON text, booleans as 0/1. */
export function toSqlValue(v: unknown): string | number | bigint | Buffer | Uint8Array | null {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'bigint':
      return v;
    case 'boolean':
      return v ? 1 : 0;
    case 'undefined':
      return null;
    case 'object':
      if (v === null) return null;
      if (v instanceof Uint8Array) return v;
      return JSON.stringify(v);
    default:
      return String(v);
  }
}

/** The column names of a table, in order. */
export function tableColumns(db: SqliteDatabase, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${quoteIdent(table)})`).all() as { name: string }[]).map(
    (c) => c.name,
  );
}

export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;
