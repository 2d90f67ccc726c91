// A row and its prosa_state give back exactly what a JSON snapshot would: the same context (values,
// types, absent keys, key order), state value, status and output, through a real SQLite table with
// columns of every affinity.
import { fc, it } from '@fast-check/vitest';
import Database from 'better-sqlite3';
import { describe, expect } from 'vitest';
import { affinityOf, createRowCodec, type RowSnapshot } from '../../src/engine/rowState.js';

const TABLE = `CREATE TABLE entities (
  id TEXT PRIMARY KEY NOT NULL, label TEXT, count INTEGER, ratio REAL, amount NUMERIC, anything,
  prosa_state TEXT
)`;
const COLUMN_NAMES = ['id', 'label', 'count', 'ratio', 'amount', 'anything'];
const KEY = 'k-1';

const value = fc.oneof(
  fc.string(),
  fc.constantFrom('5', '1e3', ' 7', '-0', '0x10', '3.14159265358979', ''),
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -0, 2 ** 60, 0.1 + 0.2, Number.NaN, Number.POSITIVE_INFINITY),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.jsonValue().filter((v) => typeof v === 'object' && v !== null),
  fc.uint8Array({ maxLength: 4 }),
  fc.date({ noInvalidDate: true }),
);

const context = fc
  .tuple(
    fc.shuffledSubarray([...COLUMN_NAMES, 'extra', 'other', '7'], { minLength: 0 }),
    fc.array(value, { minLength: 9, maxLength: 9 }),
    fc.constantFrom(KEY, 'someone-else'),
  )
  .map(([keys, values, id]) => {
    const c: Record<string, unknown> = {};
    keys.forEach((k, i) => {
      c[k] = k === 'id' ? id : values[i];
    });
    return c;
  });

const snapshot: fc.Arbitrary<RowSnapshot> = fc.record(
  {
    status: fc.constantFrom('active', 'done'),
    value: fc.oneof(fc.constantFrom('active', 'removed'), fc.record({ on: fc.constantFrom('a', 'b') })),
    context,
    output: fc.oneof(fc.constant(undefined), fc.jsonValue()),
  },
  { requiredKeys: ['status', 'value', 'context'] },
);

/** What a JSON snapshot restores. */
const viaJson = (s: RowSnapshot) => JSON.parse(JSON.stringify(s)) as RowSnapshot;

describe('the row as the actor state', () => {
  const db = new Database(':memory:');
  db.exec(TABLE);
  const columns = (db.prepare('PRAGMA table_info(entities)').all() as { name: string; type: string }[])
    .filter((c) => c.name !== 'prosa_state')
    .map((c) => ({ name: c.name, affinity: affinityOf(c.type) }));
  const codec = createRowCodec(columns, 'id');
  const write = db.prepare(
    `INSERT OR REPLACE INTO entities (${COLUMN_NAMES.join(', ')}, prosa_state) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const read = db.prepare('SELECT * FROM entities WHERE id = ?');

  it.prop([snapshot], { numRuns: 2_000 })(
    'gives back through SQLite what a JSON snapshot gives back, key order included',
    (s) => {
      const values = new Array<unknown>(columns.length);
      const state = codec.encode(s, KEY, values);
      write.run(...values, state);
      const row = read.get(KEY) as Record<string, unknown>;
      const back = codec.decode(row, row.prosa_state as string);
      const expected = viaJson(s);
      expect(back).toEqual(expected);
      expect(JSON.stringify(back)).toBe(JSON.stringify(expected));
    },
  );

  it('writes the key in the key column and each value as the row writer binds it', () => {
    const values = new Array<unknown>(columns.length);
    codec.encode(
      {
        status: 'active',
        value: 'on',
        context: { id: KEY, label: 'x', count: 2, ratio: true, amount: { a: 1 } },
      },
      KEY,
      values,
    );
    expect(values).toEqual([KEY, 'x', 2, 1, '{"a":1}', null]);
  });

  it('reads the affinity of declared types as SQLite does', () => {
    expect(
      [
        'INTEGER',
        'BIGINT',
        'TEXT',
        'VARCHAR(10)',
        'CLOB',
        'BLOB',
        '',
        'REAL',
        'DOUBLE',
        'FLOAT',
        'NUMERIC',
        'DECIMAL(5,2)',
        'BOOLEAN',
      ].map(affinityOf),
    ).toEqual([
      'integer',
      'integer',
      'text',
      'text',
      'text',
      'blob',
      'blob',
      'real',
      'real',
      'real',
      'numeric',
      'numeric',
      'numeric',
    ]);
  });
});
