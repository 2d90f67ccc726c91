/**
 * What a user declares to get a read model: where the events come from, how one is decoded, which
 * entities (actor keys) it concerns, the pure machine of each kind of entity, and the SQLite tables
 * their state becomes. `defineProjection` only checks and returns it; `createRuntime` runs it.
 */
import type { AnyStateMachine, SnapshotFrom } from 'xstate';
import { ProsaError } from '../errors.js';

/** A message as it came off the stream, before decoding. */
export interface RawEvent {
  readonly subject: string;
  /** The stream sequence: the only order and identity prosa trusts. */
  readonly seq: number;
  readonly data: Uint8Array;
}

/** A decoded event: XState's event shape, `type` naming it. */
export interface ProsaEvent {
  readonly type: string;
}

/** A column value as SQLite stores it; objects and arrays are stored as JSON text. */
export type ColumnValue = string | number | bigint | boolean | null | Uint8Array | object;
export type Row = Readonly<Record<string, ColumnValue>>;

/** One kind of entity: its machine (one actor per key) and the table its state becomes. */
export interface EntityDefinition<M extends AnyStateMachine = AnyStateMachine> {
  /** Pure XState machine; created with `input: { id }` (the key). Fed the projection's events. */
  readonly machine: M;
  /** Table that holds one row per entity, keyed by `primaryKey`. */
  readonly table: string;
  /** @default 'id' */
  readonly primaryKey?: string;
  /**
   * The row for an actor's state, or `null` for no row (a row already there is deleted).
   * @default the snapshot's context, or no row while the snapshot has the tag `'no-row'`
   */
  readonly row?: (snapshot: SnapshotFrom<M>) => Row | null;
}

export interface ProjectionSchema {
  /**
   * SQL run in order, each once, in the projection's database: tables, indexes, views. Append to
   * change the schema; never edit one that has shipped.
   */
  readonly migrations: readonly string[];
}

export interface ProjectionSource {
  /** The stream to consume, e.g. 'INFRASTRUCTURE_EVENTS'. */
  readonly stream: string;
  /** Subjects to consume within it. A single subject filters the consumer on the server. */
  readonly subjects: readonly string[];
}

export type EntityKey<K extends string = string> = readonly [kind: K, id: string];

export interface ProjectionDefinition<E extends ProsaEvent = ProsaEvent, K extends string = string> {
  /** Names the durable consumer, the dead letter subject (`dlq.<name>`) and the checkpoint. */
  readonly name: string;
  /** Bump to rebuild the read model from the stream when this definition changes. @default 1 */
  readonly version?: number;
  readonly source: ProjectionSource;
  /** Decode and validate a message; throw `InvalidEventError` with a reason to dead-letter it. */
  readonly decode: (raw: RawEvent) => E;
  /** The entities an event concerns: zero, one or several `[kind, id]`. */
  readonly keys: (event: E) => readonly EntityKey<K>[];
  readonly entities: { readonly [kind in K]: EntityDefinition };
  readonly schema: ProjectionSchema;
}

/** Checks a projection definition and returns it, typed. */
export function defineProjection<E extends ProsaEvent, K extends string>(
  definition: ProjectionDefinition<E, K>,
): ProjectionDefinition<E, K> {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9_-]+$/.test(definition.name ?? '')) problems.push('name must match [A-Za-z0-9_-]+');
  if (!definition.source?.stream) problems.push('source.stream is required');
  if (!definition.source?.subjects?.length) problems.push('source.subjects must name at least one subject');
  const kinds = Object.keys(definition.entities ?? {});
  if (kinds.length === 0) problems.push('entities must declare at least one kind');
  for (const kind of kinds) {
    const entity = (definition.entities as Record<string, EntityDefinition>)[kind];
    if (!entity?.machine) problems.push(`entities.${kind}.machine is required`);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(entity?.table ?? ''))
      problems.push(`entities.${kind}.table must be an SQL name`);
  }
  if (
    definition.version !== undefined &&
    !(Number.isInteger(definition.version) && definition.version >= 1)
  ) {
    problems.push('version must be a positive integer');
  }
  if (problems.length > 0) {
    throw new ProsaError(
      'PROSA_PROJECTION_INVALID',
      `projection ${definition.name ?? '(unnamed)'}: ${problems.join('; ')}`,
    );
  }
  return definition;
}

/** For the `default` of an exhaustive switch: a new event type fails to compile there. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
