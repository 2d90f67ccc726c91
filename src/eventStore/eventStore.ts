/**
 * eventStore — append and read the events of aggregates that prosa's users write themselves
 * (command handlers, tests, the demo), in the CIM envelope, on one JetStream stream.
 *
 *   const nc = await connect({ servers, noAsyncTraces: true }); // see "Connection" below
 *   const store = createEventStore({ connection: nc, stream: 'ORDERS', subjectPrefix: 'orders' });
 *   await store.ensureStream();
 *   const placed = { eventType: 'OrderPlaced', data: { OrderPlaced: { order_id: orderId } } };
 *   await store.append(orderId, [placed], { expectedVersion: 0 }); // => 1
 *   await store.read(orderId); // => [{ event_id, aggregate_id: orderId, sequence: 1, event_type: 'OrderPlaced', ... }]
 *
 * This module assembles the store; its parts say how they work: ./wire.ts what is published (one
 * subject per aggregate, the envelope, the version header), ./append.ts how an append is checked by
 * the server and pipelined, ./read.ts how reads stay bounded and leave no consumer behind,
 * ./streamAccess.ts what they share (readiness, the positions cache, error translation).
 *
 * Connection. The connection is the caller's; connect it with `noAsyncTraces: true`: nats.js
 * otherwise builds an Error per request for async stack context, which costs windowed publishing
 * most of its throughput. The store wraps every failure in a ProsaError with the aggregate and the
 * stream, so no stack context is lost.
 *
 * Stream. The stream must exist and capture `<subjectPrefix>.>`; `ensureStream()` creates it when
 * absent (file storage, `allow_direct: true`) and leaves an existing one alone. A stream without
 * `allow_direct` still works: lookups then use the STREAM.MSG.GET API and every read a consumer.
 */

import type { StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { StoredEvent } from '../cim/envelope.js';
import { ConfigError } from '../errors.js';
import { type Clock, systemClock } from '../time/clock.js';
import { type AppendOptions, append } from './append.js';
import {
  type ReadOptions,
  read,
  readByCorrelation,
  readByTimeRange,
  type TimeBound,
  version,
} from './read.js';
import { StreamAccess } from './streamAccess.js';
import { isStreamName, isSubjectPrefix, type NewEvent } from './wire.js';

export type { AppendOptions } from './append.js';
export type { ReadOptions, TimeBound } from './read.js';
export { EVENT_TYPE_HEADER, type NewEvent, VERSION_HEADER } from './wire.js';

/** Where the events live. */
export interface EventStoreLocation {
  /**
   * An open connection, owned by the caller. Connect with `noAsyncTraces: true` for throughput.
   */
  connection: NatsConnection;
  /** The JetStream stream; it must capture `<subjectPrefix>.>` (see `ensureStream()`). */
  stream: string;
  /**
   * The aggregate `id` lives on subject `<subjectPrefix>.<id>`. One or more subject tokens.
   * @default the stream name in lower case
   */
  subjectPrefix?: string;
}

/** How appends behave. */
export interface AppendTuning {
  /**
   * Most publishes of one batch awaiting their acknowledgement at once.
   * @default 256
   */
  batchWindow?: number;
  /**
   * How many times an append without `expectedVersion` starts again after another writer got in first.
   * @default 10
   */
  maxRetries?: number;
  /**
   * Aggregates whose (version, last sequence) pair is remembered; the least recently written go first.
   * @default 100_000
   */
  versionCacheSize?: number;
}

/** How reads behave. */
export interface ReadTuning {
  /**
   * An aggregate of at most this many events is read with direct gets, one round trip each, instead
   * of an ephemeral consumer (about three round trips plus the transfer).
   * @default 6
   */
  directReadLimit?: number;
  /**
   * Most messages one fetch of a read consumer asks for.
   * @default 10_000
   */
  readChunk?: number;
  /**
   * How far event timestamps may be from the server's receive time (clock skew between writers and
   * the server), in ms: `readByTimeRange` starts its scan this much before `from` and stops this much
   * after `to`.
   * @default 60_000
   */
  clockSkewMs?: number;
}

/** Options of `createEventStore`. */
export type EventStoreOptions = EventStoreLocation &
  AppendTuning &
  ReadTuning & {
    /**
     * Time limit of each request (publish acknowledgement, lookup, consumer call, fetch), in ms.
     * @default 5_000
     */
    timeoutMs?: number;
    /** Where the appended events' timestamps come from. @default systemClock */
    clock?: Clock;
  };

/** Every default of `EventStoreOptions`, in one place. */
export const defaultEventStoreOptions = {
  batchWindow: 256,
  maxRetries: 10,
  versionCacheSize: 100_000,
  directReadLimit: 6,
  readChunk: 10_000,
  clockSkewMs: 60_000,
  timeoutMs: 5_000,
} as const satisfies Required<AppendTuning & ReadTuning & { timeoutMs: number }>;

/** Appends and reads aggregates' events on one stream; made by `createEventStore`. */
export interface EventStore {
  /** The stream name. */
  readonly stream: string;
  /** The subject prefix; the stream must capture `<subjectPrefix>.>`. */
  readonly subjectPrefix: string;
  /** The exact subject of an aggregate. */
  subjectFor(aggregateId: string): string;
  /**
   * Creates the stream when it does not exist (subjects `<subjectPrefix>.>`, file storage,
   * `allow_direct: true`, plus `config`); an existing stream is left as it is.
   */
  ensureStream(config?: Partial<StreamConfig>): Promise<void>;
  /**
   * Appends `events` in order and returns the aggregate's new version. An empty batch stores nothing
   * and returns the current version (still checking `expectedVersion`).
   * @throws VersionConflictError when the aggregate is not at `expectedVersion`; nothing was stored.
   * @throws PartialAppendError when only the first `appended` events were stored.
   */
  append<D>(aggregateId: string, events: readonly NewEvent<D>[], options?: AppendOptions): Promise<number>;
  /** The aggregate's events in order, from `fromVersion`; [] for an unknown aggregate. */
  read(aggregateId: string, options?: ReadOptions): Promise<StoredEvent[]>;
  /** The aggregate's version (its number of events); 0 for an unknown aggregate. */
  version(aggregateId: string): Promise<number>;
  /**
   * Every event of the store (all aggregates, stream order) whose envelope `correlation_id`, or the
   * domain event's `correlation_id` inside `data`, is `correlationId`. Scans the store's subjects.
   */
  readByCorrelation(correlationId: string): Promise<StoredEvent[]>;
  /** Every event of the store whose envelope timestamp is within [from, to] as instants, in stream order. */
  readByTimeRange(from: TimeBound, to: TimeBound): Promise<StoredEvent[]>;
}

/** Creates an event store on an open connection; see the module header for the contract. */
export function createEventStore(options: EventStoreOptions): EventStore {
  const access = checkOptions(options);
  const clock = options.clock ?? systemClock;
  return {
    stream: access.stream,
    subjectPrefix: access.subjectPrefix,
    subjectFor: (aggregateId) => access.subjectFor(aggregateId),
    ensureStream: (config = {}) => access.ensureStream(config),
    append: (aggregateId, events, appendOptions) =>
      append(access, aggregateId, events, { ...appendOptions, clock }),
    read: (aggregateId, readOptions) => read(access, aggregateId, readOptions),
    version: (aggregateId) => version(access, aggregateId),
    readByCorrelation: (correlationId) => readByCorrelation(access, correlationId),
    readByTimeRange: (from, to) => readByTimeRange(access, from, to),
  };
}

/** The store's shared state, once every option is checked; a ConfigError lists every bad one. */
function checkOptions(options: EventStoreOptions): StreamAccess {
  const { connection, stream, subjectPrefix, ...tuning } = options;
  const opts = { ...defaultEventStoreOptions, ...dropUndefined(tuning) };
  const issues: { path: string; message: string }[] = [];
  if (!isStreamName(stream)) {
    issues.push({
      path: 'stream',
      message: `must be a stream name (no spaces, '.', '*', '>', '/'), got ${JSON.stringify(stream)}`,
    });
  }
  const prefix = subjectPrefix ?? (typeof stream === 'string' ? stream.toLowerCase() : '');
  if (!isSubjectPrefix(prefix)) {
    issues.push({
      path: 'subjectPrefix',
      message: `must be subject tokens without wildcards, got ${JSON.stringify(prefix)}`,
    });
  }
  for (const key of ['batchWindow', 'maxRetries', 'versionCacheSize', 'readChunk', 'timeoutMs'] as const) {
    const min = key === 'maxRetries' ? 0 : 1;
    if (!Number.isInteger(opts[key]) || opts[key] < min) {
      issues.push({ path: key, message: `must be an integer >= ${min}, got ${String(opts[key])}` });
    }
  }
  for (const key of ['directReadLimit', 'clockSkewMs'] as const) {
    if (!Number.isInteger(opts[key]) || opts[key] < 0) {
      issues.push({ path: key, message: `must be an integer >= 0, got ${String(opts[key])}` });
    }
  }
  if (typeof connection?.publish !== 'function') {
    issues.push({ path: 'connection', message: 'must be an open NatsConnection (from connect())' });
  }
  if (issues.length > 0) throw new ConfigError(issues, 'createEventStore');
  return new StreamAccess(connection, stream, prefix, opts);
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
