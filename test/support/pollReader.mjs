// A reader in its own process, as an application reading the SQLite file would be: it polls the
// row counts of some tables in one read transaction each, as fast as it can, until SIGTERM, then
// prints every distinct observation it made (JSON, one line) and how many reads it did.
// Usage: node pollReader.mjs <db path> <table>[,<table>...]
import Database from 'better-sqlite3';

const [path, tables] = process.argv.slice(2);
const names = tables.split(',');
const db = new Database(path, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
const read = db.transaction(() =>
  names.map((t) => db.prepare(`SELECT count(*) FROM "${t}"`).pluck().get()).join(','),
);
const seen = new Map();
let reads = 0;
let stop = false;
process.on('SIGTERM', () => {
  stop = true;
});
process.stdout.write('ready\n');
while (!stop) {
  try {
    const o = read();
    seen.set(o, (seen.get(o) ?? 0) + 1);
  } catch (e) {
    const o = `error: ${e.message}`;
    seen.set(o, (seen.get(o) ?? 0) + 1);
  }
  reads++;
  await new Promise((r) => setImmediate(r));
}
process.stdout.write(`${JSON.stringify({ reads, observations: Object.fromEntries(seen) })}\n`);
db.close();
