/**
 * What the scale bench asks of a SQLite file: its bytes per table (indexes counted with their
 * table) and whether two files hold the same topology rows.
 */
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';

export const TOPOLOGY_TABLES = [
  'compute_resources',
  'interfaces',
  'networks',
  'connections',
  'software_configurations',
  'policies',
] as const;

export interface DatabaseSizes {
  /** The main file plus the -wal file, as they are on disk now. */
  totalBytes: number;
  walBytes: number;
  /** Bytes of pages per table, its indexes included (SQLite's dbstat). */
  tables: Record<string, number>;
}

const fileSize = (path: string) => (existsSync(path) ? statSync(path).size : 0);

export function databaseSizes(path: string): DatabaseSizes {
  const walBytes = fileSize(`${path}-wal`);
  const db = new Database(path, { readonly: true });
  try {
    const owner = new Map(
      (
        db.prepare('SELECT name, tbl_name FROM sqlite_schema').all() as { name: string; tbl_name: string }[]
      ).map((r) => [r.name, r.tbl_name]),
    );
    const tables: Record<string, number> = {};
    for (const r of db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as {
      name: string;
      bytes: number;
    }[]) {
      const table = owner.get(r.name) ?? r.name;
      tables[table] = (tables[table] ?? 0) + r.bytes;
    }
    return { totalBytes: fileSize(path) + walBytes, walBytes, tables };
  } finally {
    db.close();
  }
}

/** Row counts of the six topology tables. */
export function topologyRowCounts(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true });
  try {
    return Object.fromEntries(
      TOPOLOGY_TABLES.map((t) => [
        t,
        (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n,
      ]),
    );
  } finally {
    db.close();
  }
}

type Row = Record<string, unknown>;

/** The first difference between two row iterators ordered by id, or undefined. */
function firstRowDifference(table: string, a: Iterator<Row>, b: Iterator<Row>): string | undefined {
  for (let n = 0; ; n++) {
    const ra = a.next();
    const rb = b.next();
    if (ra.done && rb.done) return undefined;
    if (ra.done) return `${table}: row ${n} (${String(rb.value.id)}) only in the second`;
    if (rb.done) return `${table}: row ${n} (${String(ra.value.id)}) only in the first`;
    for (const [column, value] of Object.entries(ra.value)) {
      const other = rb.value[column];
      if (other === value) continue;
      const where = ra.value.id === rb.value.id ? '' : ` (the second's row is ${String(rb.value.id)})`;
      return `${table} ${String(ra.value.id)}.${column}: ${JSON.stringify(value)} vs ${JSON.stringify(other)}${where}`;
    }
  }
}

/** The first difference between the six topology tables of two files, or undefined when they agree. */
export function firstTopologyDifference(pathA: string, pathB: string): string | undefined {
  const a = new Database(pathA, { readonly: true });
  const b = new Database(pathB, { readonly: true });
  try {
    for (const table of TOPOLOGY_TABLES) {
      const sql = `SELECT * FROM ${table} ORDER BY id`;
      const rowsA = a.prepare(sql).iterate() as IterableIterator<Row>;
      const rowsB = b.prepare(sql).iterate() as IterableIterator<Row>;
      try {
        const difference = firstRowDifference(table, rowsA, rowsB);
        if (difference) return difference;
      } finally {
        rowsA.return?.();
        rowsB.return?.();
      }
    }
    return undefined;
  } finally {
    a.close();
    b.close();
  }
}
