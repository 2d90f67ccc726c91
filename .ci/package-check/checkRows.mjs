// Compares the tallies table of the SQLite file with the expected rows (JSON on argv[3]).
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';

const [dbPath, expectedJson] = process.argv.slice(2);
const db = new Database(dbPath, { readonly: true });
const rows = Object.fromEntries(
  db
    .prepare('SELECT id, total, events FROM tallies ORDER BY id')
    .all()
    .map((r) => [r.id, { total: r.total, events: r.events }]),
);
db.close();
assert.deepEqual(rows, JSON.parse(expectedJson));
console.log(`rows ok: ${Object.keys(rows).length} tallies`);
