/** The differences between two read models, row by row and column by column, as plain data. */
import type { Model, Rows } from './readModels.js';

export type Difference =
  | { kind: 'missing-row'; table: string; key: string; expected: Record<string, unknown> }
  | { kind: 'extra-row'; table: string; key: string; got: Record<string, unknown> }
  | { kind: 'column'; table: string; key: string; column: string; expected: unknown; got: unknown }
  | { kind: 'dead-letter'; seq: number; expected: string | undefined; got: string | undefined }
  | { kind: 'waiting'; seq: number; expected: boolean; got: boolean }
  | { kind: 'checkpoint'; expected: number; got: number };

export const sameSqlValue = (a: unknown, b: unknown): boolean =>
  a === b ||
  (a instanceof Uint8Array && b instanceof Uint8Array && Buffer.compare(a, b) === 0) ||
  (typeof a === 'bigint' || typeof b === 'bigint' ? safeBigInt(a) === safeBigInt(b) : false);

const safeBigInt = (v: unknown): bigint | undefined => {
  try {
    return typeof v === 'number' || typeof v === 'bigint' ? BigInt(v) : undefined;
  } catch {
    return undefined;
  }
};

export function compareModels(expected: Model, got: Model): Difference[] {
  const out: Difference[] = [];
  for (const [table, rows] of expected.tables) {
    const other = got.tables.get(table) ?? new Map<string, Record<string, unknown>>();
    compareRows(table, rows, other, 'all', sameSqlValue, out);
  }
  const seqs = new Set([...expected.deadLetters.keys(), ...got.deadLetters.keys()]);
  for (const seq of [...seqs].sort((a, b) => a - b)) {
    const e = expected.deadLetters.get(seq);
    const g = got.deadLetters.get(seq);
    if (e !== g) out.push({ kind: 'dead-letter', seq, expected: e, got: g });
  }
  for (const seq of [...new Set([...expected.waiting, ...got.waiting])].sort((a, b) => a - b)) {
    const e = expected.waiting.has(seq);
    const g = got.waiting.has(seq);
    if (e !== g) out.push({ kind: 'waiting', seq, expected: e, got: g });
  }
  if (expected.checkpoint !== got.checkpoint)
    out.push({ kind: 'checkpoint', expected: expected.checkpoint, got: got.checkpoint });
  return out;
}

export function compareRows(
  table: string,
  expected: Rows,
  got: Rows,
  columns: 'all' | 'expected',
  same: (e: unknown, g: unknown) => boolean,
  out: Difference[],
): void {
  const keys = [...new Set([...expected.keys(), ...got.keys()])].sort();
  for (const key of keys) {
    const e = expected.get(key);
    const g = got.get(key);
    if (e && !g) out.push({ kind: 'missing-row', table, key, expected: e });
    else if (g && !e) out.push({ kind: 'extra-row', table, key, got: g });
    else if (e && g) {
      const names = columns === 'all' ? new Set([...Object.keys(e), ...Object.keys(g)]) : Object.keys(e);
      for (const column of names) {
        if (columns === 'expected' && e[column] === undefined) continue;
        if (!same(e[column], g[column]))
          out.push({ kind: 'column', table, key, column, expected: e[column], got: g[column] });
      }
    }
  }
}
