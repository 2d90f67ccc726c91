/** Which of a worker's schema migrations have run (`prosa_migrations`), and running the rest. */
import { ProsaError } from '../errors.js';
import type { SqliteDatabase } from './sqlite.js';

export const MIGRATIONS_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS prosa_migrations (
     worker TEXT NOT NULL,
     idx INTEGER NOT NULL,
     applied_at TEXT NOT NULL,
     PRIMARY KEY (worker, idx)
   )`,
];

/**
 * Runs a worker's migrations that have not run yet, in order, each once, in one transaction; each is
 * recorded as applied `at`.
 */
export function migrate(
  db: SqliteDatabase,
  worker: string,
  migrations: readonly string[],
  at: string,
): number {
  const applied = new Set(
    (db.prepare('SELECT idx FROM prosa_migrations WHERE worker = ?').all(worker) as { idx: number }[]).map(
      (r) => r.idx,
    ),
  );
  const record = db.prepare('INSERT INTO prosa_migrations (worker, idx, applied_at) VALUES (?, ?, ?)');
  let ran = 0;
  db.transaction(() => {
    migrations.forEach((sql, idx) => {
      if (applied.has(idx)) return;
      try {
        db.exec(sql);
      } catch (cause) {
        throw new ProsaError(
          'PROSA_SQLITE',
          `${worker}: migration ${idx} failed: ${(cause as Error).message}`,
          { cause },
        );
      }
      record.run(worker, idx, at);
      ran++;
    });
  })();
  return ran;
}

/**
 * Runs every one of a worker's migrations again in the main schema and records them as applied at
 * `at`, forgetting what was recorded before: a rebuild's swap recreates the tables it dropped. The
 * caller holds the transaction.
 */
export function rerunMigrations(
  db: SqliteDatabase,
  worker: string,
  migrations: readonly string[],
  at: string,
): void {
  db.prepare('DELETE FROM main.prosa_migrations WHERE worker = ?').run(worker);
  const record = db.prepare('INSERT INTO main.prosa_migrations (worker, idx, applied_at) VALUES (?, ?, ?)');
  migrations.forEach((sql, idx) => {
    db.exec(sql);
    record.run(worker, idx, at);
  });
}
