/**
 * The row as the actor's state. For a pure machine whose context is its row, the entity's table
 * already holds the context: storing a second copy (a snapshot in `prosa_actor_snapshots`) doubles
 * what each changed entity writes and what the file holds. Instead the row carries one more column,
 * `prosa_state`, with what the columns cannot say: the state value, and one type code per column so
 * the context comes back exactly as a JSON snapshot would restore it (a boolean from 0/1, an object
 * from its JSON text, a key that was absent stays absent).
 *
 *   prosa_state = {"v": value, "t": "sjnbzu...", "x"?: {...}, "k"?: [...], "s"?: status, "o"?: output}
 *
 * `t` has one code per column (in column order): s string, n number, b boolean, z null, j JSON
 * (object or array), u absent, x kept in `x` instead (a value the column would not give back as it
 * was: a numeric-looking string in a numeric column, a number in a text column, bytes, a non-finite
 * number). `x` also holds context keys that are not columns; `k` is the context's key order when it
 * differs from the order the columns give. Whatever is not a plain active-or-done snapshot of a
 * context (children, history) is not encoded here: the engine falls back to a stored snapshot.
 */
import { toSqlValue } from '../store/sqlite.js';

/** SQLite's type affinity of a declared column type (https://sqlite.org/datatype3.html 3.1). */
export type Affinity = 'text' | 'numeric' | 'integer' | 'real' | 'blob';

export function affinityOf(declaredType: string): Affinity {
  const t = declaredType.toUpperCase();
  if (t.includes('INT')) return 'integer';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'text';
  if (t === '' || t.includes('BLOB')) return 'blob';
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'real';
  return 'numeric';
}

export interface RowColumn {
  readonly name: string;
  readonly affinity: Affinity;
}

/** The parts of a snapshot the row can hold. */
export interface RowSnapshot {
  readonly status: string;
  readonly value: unknown;
  readonly context: Record<string, unknown>;
  readonly output?: unknown;
}

export interface RowCodec {
  /**
   * Fills `values` with the row (one value per column, as the row writer binds it: the key in the
   * key column) and returns the `prosa_state` text.
   */
  encode(snapshot: RowSnapshot, key: string, values: unknown[]): string;
  /** The snapshot back from a row read with every column and `prosa_state`. */
  decode(row: Readonly<Record<string, unknown>>, state: string): RowSnapshot;
}

interface StateJson {
  v: unknown;
  t: string;
  x?: Record<string, unknown>;
  k?: string[];
  s?: string;
  o?: unknown;
}

/** The code that restores a column's value as a JSON snapshot would; `x` when the column cannot. */
function codeOf(v: unknown, affinity: Affinity): string {
  switch (typeof v) {
    case 'string':
      // A text that looks like a number would come back as a number from a numeric column.
      return affinity === 'text' || affinity === 'blob' ? 's' : 'x';
    case 'number':
      // A text column keeps a number as text with fewer digits than a double; JSON has no Infinity.
      return Number.isFinite(v) && affinity !== 'text' ? 'n' : 'x';
    case 'boolean':
      return 'b';
    case 'undefined':
      return 'u';
    case 'object':
      if (v === null) return 'z';
      return v instanceof Uint8Array || typeof JSON.stringify(v) !== 'string' ? 'x' : 'j';
    default:
      return 'x';
  }
}

function restore(code: string, v: unknown): unknown {
  switch (code) {
    case 's':
      return typeof v === 'string' ? v : String(v);
    case 'n':
      // + 0: JSON writes -0 as 0.
      return (typeof v === 'number' ? v : Number(v)) + 0;
    case 'b':
      // 0/1, or their text ("1.0") in a text column.
      return Number(v) === 1;
    case 'z':
      return null;
    case 'j':
      return JSON.parse(v as string);
    default:
      throw new Error(`unknown row state code "${code}"`);
  }
}

/** A codec for one table: `columns` in table order, without `prosa_state`; `pk` names the key column. */
export function createRowCodec(columns: readonly RowColumn[], pk: string): RowCodec {
  const names = columns.map((c) => c.name);
  const isColumn = new Set(names);
  const pkIndex = names.indexOf(pk);

  return {
    encode(snapshot, key, values) {
      const { context } = snapshot;
      let codes = '';
      let extra: Record<string, unknown> | undefined;
      const keep = (k: string, v: unknown) => {
        extra ??= {};
        extra[k] = v;
      };
      for (let i = 0; i < columns.length; i++) {
        const column = columns[i] as RowColumn;
        const v = context[column.name];
        let code = codeOf(v, column.affinity);
        if (i === pkIndex) {
          // The key column holds the entity key; a context whose id says otherwise keeps its own.
          if (code !== 'u' && v !== key) code = 'x';
          values[i] = key;
        } else values[i] = toSqlValue(v);
        if (code === 'x') keep(column.name, v);
        codes += code;
      }
      for (const k in context) if (!isColumn.has(k)) keep(k, context[k]);
      const state: StateJson = { v: snapshot.value, t: codes };
      if (extra) state.x = extra;
      const order = keyOrder(context);
      if (!sameOrder(order, restoredOrder(names, codes, extra))) state.k = order;
      if (snapshot.status !== 'active') state.s = snapshot.status;
      if (snapshot.output !== undefined) state.o = snapshot.output;
      return JSON.stringify(state);
    },
    decode(row, text) {
      const state = JSON.parse(text) as StateJson;
      const codes = state.t;
      const restored: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) {
        const code = codes[i];
        if (code === 'u' || code === 'x' || code === undefined) continue;
        const name = names[i] as string;
        restored[name] = restore(code, row[name]);
      }
      // JSON text of the extras, parsed: what a JSON snapshot would have restored.
      if (state.x) for (const k in state.x) restored[k] = state.x[k];
      const context = state.k ? inOrder(restored, state.k) : restored;
      const snapshot: { status: string; value: unknown; context: Record<string, unknown>; output?: unknown } =
        {
          status: state.s ?? 'active',
          value: state.v,
          context,
        };
      if (state.o !== undefined) snapshot.output = state.o;
      return snapshot;
    },
  };
}

/** The keys a JSON copy of the context keeps, in its order. */
function keyOrder(context: Record<string, unknown>): string[] {
  const keys: string[] = [];
  for (const k in context) {
    const v = context[k];
    if (v !== undefined && typeof v !== 'function' && typeof v !== 'symbol') keys.push(k);
  }
  return keys;
}

/** The key order `decode` gives without `k`: the columns it restores, then the extras. */
function restoredOrder(names: readonly string[], codes: string, extra: Record<string, unknown> | undefined) {
  const keys: string[] = [];
  for (let i = 0; i < names.length; i++)
    if (codes[i] !== 'u' && codes[i] !== 'x') keys.push(names[i] as string);
  if (extra) for (const k in extra) if (extra[k] !== undefined && !keys.includes(k)) keys.push(k);
  return keys;
}

function sameOrder(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function inOrder(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const ordered: Record<string, unknown> = {};
  for (const k of keys) if (k in o) ordered[k] = o[k];
  return ordered;
}
