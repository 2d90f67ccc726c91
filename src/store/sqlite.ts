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

/**
 * Moves a table an older prosa created `WITHOUT ROWID` to the rowid table `createSql` declares
 * (`CREATE TABLE IF NOT EXISTS`, same columns in the same order), rows kept. A WITHOUT ROWID row
 * keeps only about 1 KB of a 4 KB page and spills the rest into an overflow page of its own, so
 * snapshots of a few KB took three times their size.
 */
export function moveToRowidTable(db: SqliteDatabase, table: string, createSql: string): void {
  const sqlOf = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck();
  const withoutRowid = () => /WITHOUT\s+ROWID\s*$/i.test(String(sqlOf.get(table) ?? ''));
  if (!withoutRowid()) return;
  const old = quoteIdent(`${table}_without_rowid`);
  db.transaction(() => {
    if (!withoutRowid()) return; // another process moved it meanwhile
    db.exec(`ALTER TABLE ${quoteIdent(table)} RENAME TO ${old}`);
    db.exec(createSql);
    db.exec(`INSERT INTO ${quoteIdent(table)} SELECT * FROM ${old}`);
    db.exec(`DROP TABLE ${old}`);
  }).immediate();
}
