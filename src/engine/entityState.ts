/**
 * Where a projection's entities keep their state between batches, and how it comes back.
 *
 * An entity of a pure machine whose context is its row keeps its state in its row: the row's
 * columns hold the context and `prosa_state` the rest (src/engine/rowState.ts), so each changed
 * entity is one upsert and the file holds one copy. Anything else (an entity whose row is derived
 * by `row()`, a machine that needs a real actor, a state without a row, a snapshot with history)
 * keeps a snapshot in `prosa_actor_snapshots` as well.
 *
 * Two key filters say which keys might have stored state, so an actor that was never written
 * starts new without a look-up: on a new database and in a rebuild, most of them.
 */
import type { AnyMachineSnapshot } from 'xstate';
import type { EntityDefinition, Row } from '../define/projection.js';
import {
  type ActorStateStore,
  countSnapshots,
  createActorStateStore,
  ensureStateColumn,
  STATE_COLUMN,
  snapshotKeys,
} from '../store/actorState.js';
import { quoteIdent, type SqliteDatabase, toSqlValue } from '../store/sqlite.js';
import { type HostedActor, isCompact, parseSnapshot, serializeSnapshot, slotOf } from './actorHost.js';
import { needsActor } from './keyActor.js';
import { createKeyFilter, type KeyFilter } from './keyFilter.js';
import { affinityOf, createRowCodec, type RowCodec } from './rowState.js';

/** An actor's write, captured when it was passivated during a batch and held until the commit. */
export type PendingWrite =
  | {
      readonly mode: 'row';
      readonly kind: string;
      readonly id: string;
      readonly slot: string;
      values: unknown[];
    }
  | {
      readonly mode: 'snapshot';
      readonly kind: string;
      readonly id: string;
      readonly slot: string;
      readonly snapshot: string;
      readonly row: Row | null;
    };

export interface EntityStates {
  /** The stored snapshot of a key to restore (XState's persisted shape), if it has one. */
  load(kind: string, id: string, slot: string): unknown | undefined;
  /** The snapshot a held write restores (an actor passivated and asked for again in one batch). */
  loadPending(w: PendingWrite): unknown;
  /** Captures a live actor's write to hold it (its snapshot is immutable, its row is copied). */
  capture(hosted: HostedActor): PendingWrite;
  /** Writes a live actor's state now (in the batch transaction). */
  writeLive(hosted: HostedActor): void;
  writePending(w: PendingWrite): void;
  /** Re-reads which keys have stored state, after the tables changed under the engine (a swap). */
  reload(): void;
}

interface KindStore {
  readonly entity: EntityDefinition;
  readonly table: string;
  readonly pk: string;
  /** The entity's columns, without prosa_state. */
  readonly columns: readonly string[];
  /** Set when the row holds the state. */
  readonly codec: RowCodec | undefined;
  readonly upsert: { run(values: unknown[]): unknown };
  readonly remove: { run(key: string): unknown };
  readonly select: { get(key: string): unknown } | undefined;
  /** Reused for writes at commit (a held write gets its own). */
  readonly values: unknown[];
}

const defaultRow = (snapshot: AnyMachineSnapshot): Row | null =>
  snapshot.hasTag('no-row') ? null : (snapshot.context as Row);

/** The persisted shape XState restores: what is stored, plus the empty children and history. */
const restorable = (s: { status: string; value: unknown; context: unknown; output?: unknown }) => ({
  ...s,
  children: {},
  historyValue: {},
});

export function createEntityStates(o: {
  db: SqliteDatabase;
  worker: string;
  projection: string;
  entities: Readonly<Record<string, EntityDefinition>>;
}): EntityStates {
  const { db, worker } = o;
  const snapshots: ActorStateStore = createActorStateStore(db);
  const kinds = new Map<string, KindStore>();
  for (const [kind, entity] of Object.entries(o.entities))
    kinds.set(kind, kindStore(db, o.projection, entity));
  let rowKeys: KeyFilter = createKeyFilter();
  let snapshotKeyFilter: KeyFilter = createKeyFilter();

  const reload = () => {
    const stateful = [...kinds].filter(([, k]) => k.codec !== undefined);
    const withState = (k: KindStore, what: string) =>
      db.prepare(`SELECT ${what} FROM ${quoteIdent(k.table)} WHERE ${STATE_COLUMN} IS NOT NULL`).pluck();
    let rows = 0;
    for (const [, k] of stateful) rows += withState(k, 'count(*)').get() as number;
    rowKeys = createKeyFilter(Math.max(4_096, rows));
    for (const [kind, k] of stateful) {
      for (const id of withState(k, quoteIdent(k.pk)).iterate()) rowKeys.add(slotOf(kind, String(id)));
    }
    snapshotKeyFilter = createKeyFilter(Math.max(4_096, countSnapshots(db, worker)));
    for (const { kind, key } of snapshotKeys(db, worker)) snapshotKeyFilter.add(slotOf(kind, key));
  };
  reload();

  const kindOf = (kind: string) => kinds.get(kind) as KindStore;

  const capture = (hosted: HostedActor, into?: unknown[]): PendingWrite => {
    const k = kindOf(hosted.kind);
    const snap = hosted.actor.getSnapshot() as AnyMachineSnapshot;
    const row = k.entity.row ? k.entity.row(snap as never) : defaultRow(snap);
    const { kind, id, slot } = hosted;
    if (k.codec && row !== null && isCompact(snap)) {
      const values = into ?? new Array<unknown>(k.columns.length + 1);
      values[k.columns.length] = k.codec.encode(snap as never, id, values);
      return { mode: 'row', kind, id, slot, values };
    }
    return { mode: 'snapshot', kind, id, slot, snapshot: serializeSnapshot(hosted.actor), row };
  };

  const write = (w: PendingWrite) => {
    const k = kindOf(w.kind);
    if (w.mode === 'row') {
      k.upsert.run(w.values);
      rowKeys.add(w.slot);
      return;
    }
    if (w.row === null) k.remove.run(w.id);
    else {
      const { values, columns, pk } = k;
      for (let i = 0; i < columns.length; i++) {
        const c = columns[i] as string;
        values[i] = c === pk ? w.id : toSqlValue(w.row[c]);
      }
      if (k.codec) values[columns.length] = null; // the snapshot below holds the state
      k.upsert.run(values);
    }
    snapshots.save(worker, w.kind, w.id, w.snapshot);
    snapshotKeyFilter.add(w.slot);
  };

  return {
    load(kind, id, slot) {
      const k = kindOf(kind);
      if (k.codec && k.select && rowKeys.mightHave(slot)) {
        const row = k.select.get(id) as Record<string, unknown> | undefined;
        const state = row?.[STATE_COLUMN];
        if (row && typeof state === 'string') return restorable(k.codec.decode(row, state));
      }
      if (!snapshotKeyFilter.mightHave(slot)) return undefined;
      const text = snapshots.load(worker, kind, id);
      return text === undefined ? undefined : parseSnapshot(text);
    },
    loadPending(w) {
      if (w.mode === 'snapshot') return parseSnapshot(w.snapshot);
      const k = kindOf(w.kind);
      const row: Record<string, unknown> = {};
      k.columns.forEach((c, i) => {
        row[c] = w.values[i];
      });
      return restorable((k.codec as RowCodec).decode(row, w.values[k.columns.length] as string));
    },
    capture: (hosted) => capture(hosted),
    writeLive(hosted) {
      write(capture(hosted, kindOf(hosted.kind).values));
    },
    writePending: write,
    reload,
  };
}

/** An entity kind's table, its statements, and whether its row can hold the state. */
function kindStore(db: SqliteDatabase, projection: string, entity: EntityDefinition): KindStore {
  const pk = entity.primaryKey ?? 'id';
  const rowIsState = entity.row === undefined && !needsActor(entity.machine);
  if (rowIsState) ensureStateColumn(db, entity.table);
  const declared = db.prepare(`PRAGMA table_info(${quoteIdent(entity.table)})`).all() as {
    name: string;
    type: string;
  }[];
  if (declared.length === 0)
    throw new Error(`projection ${projection}: table ${entity.table} does not exist after the migrations`);
  if (!declared.some((c) => c.name === pk))
    throw new Error(`projection ${projection}: table ${entity.table} has no column ${pk}`);
  const columns = declared.map((c) => c.name).filter((c) => c !== STATE_COLUMN);
  const written = rowIsState ? [...columns, STATE_COLUMN] : columns;
  const t = quoteIdent(entity.table);
  const cols = written.map(quoteIdent);
  const upsert = db.prepare(
    `INSERT INTO ${t} (${cols.join(', ')}) VALUES (${written.map(() => '?').join(', ')}) ON CONFLICT (${quoteIdent(pk)}) DO UPDATE SET ${cols
      .filter((_, i) => written[i] !== pk)
      .map((c) => `${c} = excluded.${c}`)
      .join(', ')}`,
  );
  const codec = rowIsState
    ? createRowCodec(
        declared
          .filter((c) => c.name !== STATE_COLUMN)
          .map((c) => ({ name: c.name, affinity: affinityOf(c.type) })),
        pk,
      )
    : undefined;
  return {
    entity,
    table: entity.table,
    pk,
    columns,
    codec,
    upsert,
    remove: db.prepare(`DELETE FROM ${t} WHERE ${quoteIdent(pk)} = ?`),
    select: rowIsState ? db.prepare(`SELECT * FROM ${t} WHERE ${quoteIdent(pk)} = ?`) : undefined,
    values: new Array<unknown>(written.length),
  };
}
