/** The read model a run leaves: the projection's tables, its dead letters and its checkpoint. */
import {
  type ProjectionDefinition,
  type ProsaEvent,
  quoteIdent,
  type SqliteDatabase,
  STATE_COLUMN,
} from '../../internal.js';
import type { ReplayResult } from '../replay.js';

export interface TableSpec {
  table: string;
  primaryKey: string;
}

/** The tables of the projection's entities (each once), with their primary keys. */
export function tablesOf(definition: ProjectionDefinition<ProsaEvent, string>): TableSpec[] {
  const specs = new Map<string, TableSpec>();
  for (const entity of Object.values(definition.entities)) {
    if (!specs.has(entity.table))
      specs.set(entity.table, { table: entity.table, primaryKey: entity.primaryKey ?? 'id' });
  }
  return [...specs.values()];
}

export type Rows = Map<string, Record<string, unknown>>;

/** Everything a run leaves that must not depend on the schedule. */
export interface Model {
  tables: Map<string, Rows>;
  /** Dead letters by stream sequence: their reasons. */
  deadLetters: Map<number, string>;
  /** Events that wait behind a dead letter of one of their entities. */
  waiting: Set<number>;
  checkpoint: number;
}

export function modelOf(result: ReplayResult, tables: readonly TableSpec[]): Model {
  return {
    tables: readTables(result.db, tables),
    deadLetters: new Map(result.deadLetters.map((d) => [d.seq, d.reason])),
    waiting: new Set(result.waiting),
    checkpoint: result.checkpoint,
  };
}

export function readTables(
  db: Pick<SqliteDatabase, 'prepare'>,
  tables: readonly TableSpec[],
): Map<string, Rows> {
  const model = new Map<string, Rows>();
  for (const { table, primaryKey } of tables) {
    const rows = db
      .prepare(`SELECT * FROM ${quoteIdent(table)} ORDER BY ${quoteIdent(primaryKey)}`)
      .all() as Record<string, unknown>[];
    // prosa_state is the engine's, not the model's: a reference fold knows nothing of it.
    for (const r of rows) delete r[STATE_COLUMN];
    model.set(table, new Map(rows.map((r) => [String(r[primaryKey]), r])));
  }
  return model;
}
