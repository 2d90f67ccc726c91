/** The clean pass against the user's reference fold: only the columns a reference row names, JSON by value. */
import type { ProjectionDefinition, ProsaEvent, RawEvent } from '../../internal.js';
import { compareRows, type Difference, sameSqlValue } from './compareModels.js';
import { UsageError } from './failures.js';
import type { ReferenceModel } from './options.js';
import type { Model, Rows, TableSpec } from './readModels.js';
import { preview } from './text.js';

export function compareWithReference(
  reference: (events: readonly ProsaEvent[]) => ReferenceModel,
  definition: ProjectionDefinition<ProsaEvent, string>,
  messages: readonly RawEvent[],
  expected: Model,
  tables: readonly TableSpec[],
): Difference[] {
  const events: ProsaEvent[] = [];
  for (const m of messages) {
    // The reference is told which events are bad: it never sees a dead letter, nor an event that
    // waits behind one (an entity's order holds around a bad event, so those were not applied).
    if (expected.deadLetters.has(m.seq) || expected.waiting.has(m.seq)) continue;
    try {
      events.push(definition.decode(m));
    } catch {
      // A message that does not decode is a dead letter; the reference never sees it.
    }
  }
  const model = reference(events);
  const out: Difference[] = [];
  for (const [table, rows] of Object.entries(model)) {
    const spec = tables.find((t) => t.table === table);
    if (!spec) {
      throw new UsageError(
        `checkProjection: the reference returned table "${table}", which is not a table of ${definition.name}'s entities (${tables.map((t) => t.table).join(', ')})`,
      );
    }
    const keyed: Rows = new Map();
    for (const row of rows instanceof Map ? rows.values() : rows) {
      const r = row as Record<string, unknown>;
      if (r[spec.primaryKey] === undefined || r[spec.primaryKey] === null) {
        throw new UsageError(
          `checkProjection: a reference row of table "${table}" has no primary key column "${spec.primaryKey}": ${preview(r)}`,
        );
      }
      keyed.set(String(r[spec.primaryKey]), r);
    }
    compareRows(table, keyed, expected.tables.get(table) ?? new Map(), 'expected', sameAsReference, out);
  }
  return out;
}

/**
 * A reference value against what SQLite returned: equal as SQL values, or SQLite holds JSON text of
 * it (objects and arrays always are; a JSON column's strings and numbers too), compared by value
 * with key order aside; booleans are 0/1.
 */
function sameAsReference(expected: unknown, got: unknown): boolean {
  if (typeof expected === 'boolean' && got === (expected ? 1 : 0)) return true;
  const structured = typeof expected === 'object' && expected !== null && !(expected instanceof Uint8Array);
  if (!structured && sameSqlValue(expected ?? null, got)) return true;
  if (typeof got !== 'string' || expected === undefined || expected instanceof Uint8Array) return false;
  try {
    return canonicalJson(JSON.parse(got)) === canonicalJson(expected);
  } catch {
    return false;
  }
}

/** JSON text with object keys sorted (built as text, so a key like `__proto__` stays a key). */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
