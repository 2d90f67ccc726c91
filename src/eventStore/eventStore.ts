/**
 * eventStore — append and read the events of aggregates that prosa's users write themselves
 * (command handlers, tests, the demo), in the CIM envelope (DESIGN 3.1), on one JetStream stream
 * (DESIGN 8).
 *
 *   const nc = await connect({ servers, noAsyncTraces: true }); // see "Connection" below
 *   const store = createEventStore({ connection: nc, stream: 'ORDERS', subjectPrefix: 'orders' });
 *   await store.ensureStream();
 *   const placed = { eventType: 'OrderPlaced', data: { OrderPlaced: { order_id: orderId } } };
 *   await store.append(orderId, [placed], { expectedVersion: 0 }); // => 1
 *   await store.read(orderId); // => [{ event_id, aggregate_id: orderId, sequence: 1, event_type: 'OrderPlaced', ... }]
 *
 * On the wire. Each aggregate has its own exact subject `<subjectPrefix>.<aggregateId>`; each event
 * is one message whose body is the envelope (made by `makeEnvelope`, `sequence` = the event's
 * version) with headers `Nats-Msg-Id` = event_id, `Prosa-Event-Type` and `Prosa-Version` (the
 * aggregate's version after this event, 1-based). The version of an aggregate is its number of
 * events; the header lets a single direct get of the subject's last message tell it.
 *
 * Concurrency is checked by the SERVER, never read-then-write. The store keeps, per aggregate, the
 * pair (version, stream sequence of its last event), filled by appends and reads. An append whose
 * expectedVersion matches that pair (or is 0: "the subject must be empty") is one pipelined round
 * trip: the first event carries `Nats-Expected-Last-Subject-Sequence`. On a miss, one direct get of
 * the subject's last message learns the pair first. A rejection becomes a `VersionConflictError`
 * naming the expected and the actual version (read from the message at the sequence the server
 * reported) and drops the cached pair.
 *
 * How a batch stays unbroken and still pipelined. Every event of a batch is checked by the server,
 * so no concurrent writer can slip in between two of its events:
 *   - event 1 expects the last sequence of the aggregate's subject (the check above);
 *   - event k > 1 expects the stream's last message id to be event k-1's id
 *     (`Nats-Expected-Last-Msg-Id`). That holds only if event k-1 was stored and nothing at all was
 *     stored after it, so it needs no sequence we do not know yet and the batch goes out without
 *     waiting for acks (measured on a 1,000-event batch: 6k-15k events/s awaiting each publish,
 *     23k-32k with 256 or 1,000 in flight).
 * If another writer stores anything anywhere in the stream in between (another aggregate, a crate
 * publishing without ids, a server restart that forgets the last id), event k is refused with
 * "wrong last msg ID" and every later one with it: the store then continues from event k with the
 * subject check against event k-1's now known sequence, in another pipelined round. Each round
 * stores at least one event, so it ends. If the subject check itself fails after some events landed,
 * a writer of this aggregate got in: the rest is not stored and `PartialAppendError` says how many
 * events (from the first) were. A lost acknowledgement (timeout) after some progress is resumed
 * the same way: re-sent events carry their original `Nats-Msg-Id`, and the server's dedupe
 * (checked before expectations) answers "duplicate" with the sequence of any that had landed. The window
 * of unacknowledged publishes is bounded (`batchWindow`), which also bounds what a refused round
 * wastes. Why not the others: awaiting each publish costs one round trip per event (~150 µs here,
 * 6.6k events/s); JetStream's atomic batch publish needs 2.12 and on 2.9.10 stores the messages
 * while reporting an error (NATS-NOTES 9); expected-last-sequence on the stream would refuse every
 * batch that overlaps another aggregate's write, with no cheap way to go on.
 *
 * Without `expectedVersion` an append is not checked against the caller's view, but the store still
 * chains it on the server (so `Prosa-Version` stays exact and a batch is never interleaved) and
 * retries with a fresh lookup when it loses a race, up to `maxRetries` times.
 *
 * Reads are bounded and leave nothing behind. `read` and `version` start with one direct get of the
 * subject's last message (an unknown aggregate answers after that one round trip); an aggregate of
 * up to `directReadLimit` events is read with direct gets (`next_by_subj`), a longer one, like
 * `readByCorrelation` and `readByTimeRange`, with an ephemeral pull consumer (memory storage,
 * `ack_policy: none`, a short `inactive_threshold` as a safety net) that is deleted explicitly in a
 * `finally`, and that reads exactly the messages pending when it was created, each fetch expiring
 * after `timeoutMs`. `readByCorrelation` scans all of the store's subjects; `readByTimeRange` starts
 * at the server time `from - clockSkewMs` and stops past `to + clockSkewMs`, which assumes what
 * DESIGN 3.1 says: the envelope timestamp is the append time.
 *
 * Connection. The connection is the caller's; connect it with `noAsyncTraces: true`: nats.js
 * otherwise builds an Error per request for async stack context, which costs windowed publishing
 * 80% of its throughput (NATS-NOTES 8). The store wraps every failure in a ProsaError with the
 * aggregate and the stream, so no stack context is lost.
 *
 * Stream. The stream must exist and capture `<subjectPrefix>.>`; `ensureStream()` creates it when
 * absent (file storage, `allow_direct: true`) and leaves an existing one alone. A stream without
 * `allow_direct` still works: lookups then use the STREAM.MSG.GET API and every read a consumer.
 */

import { randomFillSync } from 'node:crypto';
import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  type PubAck,
  StorageType,
  type StoredMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import { headers, type MsgHdrs, type NatsConnection, nanos, nuid } from '@nats-io/transport-node';
import { v7 as uuidv7 } from 'uuid';
import {
  checkEnvelope,
  compareTimestamps,
  isUuid,
  makeEnvelope,
  parseTimestamp,
  type StoredEvent,
} from '../cim/envelope.js';
import {
  ConfigError,
  InvalidEventError,
  PartialAppendError,
  ProsaError,
  VersionConflictError,
} from '../errors.js';

/** Header with the aggregate's version after the event (1 for its first event). */
export const VERSION_HEADER = 'Prosa-Version';
/** Header with the envelope's `event_type`. */
export const EVENT_TYPE_HEADER = 'Prosa-Event-Type';

/** Where the events live. */
export interface EventStoreLocation {
  /**
   * An open connection, owned by the caller. Connect with `noAsyncTraces: true` for throughput.
   * @see NATS-NOTES.md item 8
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

/**
 * An event to append: the envelope fields the caller chooses. The envelope's `timestamp` is always
 * the append time (DESIGN 3.1); a domain time belongs inside `data`.
 */
export interface NewEvent<D = unknown> {
  /** e.g. `ComputeResourceRegistered`. */
  eventType: string;
  /** The domain event; for CIM events the externally tagged `{ "<eventType>": {...} }`. */
  data: D;
  /**
   * Also the `Nats-Msg-Id`: appending the same id again within the stream's duplicate window
   * (2 minutes by default) stores it once.
   * @default a fresh UUID v7
   */
  eventId?: string;
  /** @default the append's `correlationId` */
  correlationId?: string;
  /** @default the append's `causationId` */
  causationId?: string | null;
  /** @default null */
  metadata?: unknown;
}

/** Options of one append. */
export interface AppendOptions {
  /**
   * The version the aggregate must be at: 0 = it must have no events. Omitted = no check.
   * @default undefined
   */
  expectedVersion?: number;
  /** For every event of the batch that names none. @default one fresh UUID v7 per append */
  correlationId?: string;
  /** For every event of the batch that names none. @default the event's own id */
  causationId?: string | null;
}

/** Options of `read`. */
export interface ReadOptions {
  /**
   * The first version to return (1 = the aggregate's first event).
   * @default 1
   */
  fromVersion?: number;
}

/** A time bound of `readByTimeRange`: a Date or an RFC 3339 string. */
export type TimeBound = Date | string;

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
  return new EventStoreImpl(options);
}

/** An aggregate's version and the stream sequence of its last event (0, 0 when it has none). */
interface Position {
  version: number;
  seq: number;
}

/** The subject's last message and the position it gives. */
interface LastMessage extends Position {
  msg: StoredMsg;
}

/** A batch ready to publish: envelopes with fixed ids and times; `sequence` is set per attempt. */
interface PreparedBatch {
  envelopes: StoredEvent[];
}

/** What publishing one batch from a base position came to. */
type BatchOutcome =
  | { kind: 'stored'; version: number; seq: number; duplicates: boolean }
  | { kind: 'lost-race'; cause: unknown };

/** One pipelined round: events [start, confirmed) were acknowledged; `failure` stopped it, if anything did. */
interface Round {
  confirmed: number;
  lastSeq: number;
  duplicates: boolean;
  failure: unknown;
}

/** A publish that settled: the ack, or why it failed (a value, so no rejection is ever unhandled). */
type Settled = { ok: true; ack: PubAck } | { ok: false; error: unknown };

const API_WRONG_LAST_MSG_ID = 10070;
const API_WRONG_LAST_SEQUENCE = 10071;
const API_STREAM_NOT_FOUND = 10059;
const API_JETSTREAM_NOT_ENABLED = 10039;
const WRONG_LAST_SEQUENCE = /wrong last sequence: (\d+)/;
const SUBJECT_TOKENS = /^[^\s.*>]+(\.[^\s.*>]+)*$/;
const STREAM_NAME = /^[^\s.*>/\\]+$/;
const settle = (p: Promise<PubAck>): Promise<Settled> =>
  p.then(
    (ack) => ({ ok: true, ack }),
    (error: unknown) => ({ ok: false, error }),
  );

class EventStoreImpl implements EventStore {
  readonly stream: string;
  readonly subjectPrefix: string;
  private readonly nc: NatsConnection;
  private readonly js: JetStreamClient;
  private readonly opts: Required<AppendTuning & ReadTuning> & { timeoutMs: number };
  /** Insertion order = least recently written first. */
  private readonly positions = new Map<string, Position>();
  private jsmPromise: Promise<JetStreamManager> | undefined;
  private jsm: JetStreamManager | undefined;
  private readyPromise: Promise<void> | undefined;
  private ready = false;
  /** Whether the stream allows direct gets (learned once from its config). */
  private direct = false;

  constructor(options: EventStoreOptions) {
    const { connection, stream, subjectPrefix, ...tuning } = options;
    const opts = { ...defaultEventStoreOptions, ...dropUndefined(tuning) };
    const issues: { path: string; message: string }[] = [];
    if (typeof stream !== 'string' || !STREAM_NAME.test(stream)) {
      issues.push({
        path: 'stream',
        message: `must be a stream name (no spaces, '.', '*', '>', '/'), got ${JSON.stringify(stream)}`,
      });
    }
    const prefix = subjectPrefix ?? (typeof stream === 'string' ? stream.toLowerCase() : '');
    if (!SUBJECT_TOKENS.test(prefix)) {
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
    this.nc = connection;
    this.stream = stream;
    this.subjectPrefix = prefix;
    this.opts = opts;
    this.js = jetstream(connection, { timeout: opts.timeoutMs });
  }

  subjectFor(aggregateId: string): string {
    return `${this.subjectPrefix}.${aggregateId}`;
  }

  async ensureStream(config: Partial<StreamConfig> = {}): Promise<void> {
    this.assertOpen('ensureStream');
    const jsm = await this.manager();
    try {
      await jsm.streams.info(this.stream);
      return;
    } catch (e) {
      if (apiCode(e) !== API_STREAM_NOT_FOUND) throw this.wrap(e, 'ensureStream');
    }
    try {
      await jsm.streams.add({
        name: this.stream,
        subjects: [`${this.subjectPrefix}.>`],
        storage: StorageType.File,
        allow_direct: true,
        ...config,
      });
    } catch (e) {
      throw this.wrap(e, 'ensureStream');
    } finally {
      // Learn allow_direct again on the next call.
      this.ready = false;
      this.readyPromise = undefined;
    }
  }

  async append<D>(
    aggregateId: string,
    events: readonly NewEvent<D>[],
    options: AppendOptions = {},
  ): Promise<number> {
    checkAggregateId(aggregateId);
    const expected = options.expectedVersion;
    if (expected !== undefined && (!Number.isInteger(expected) || expected < 0)) {
      throw new RangeError(
        `append: expectedVersion must be an integer >= 0 or omitted, got ${String(expected)}`,
      );
    }
    if (!Array.isArray(events)) throw new TypeError('append: events must be an array of { eventType, data }');
    if (!this.ready) await this.whenReady('append');
    const subject = this.subjectFor(aggregateId);
    if (events.length === 0) {
      const version = await this.version(aggregateId);
      if (expected !== undefined && version !== expected) {
        throw new VersionConflictError(aggregateId, expected, version);
      }
      return version;
    }
    const batch = prepare(aggregateId, events, options);
    for (let attempt = 0; ; attempt++) {
      const base = await this.basePosition(aggregateId, subject, expected);
      const outcome = await this.publishBatch(aggregateId, subject, batch, base);
      if (outcome.kind === 'stored') {
        if (outcome.duplicates) {
          // Some events were stored by an earlier append with the same ids: ask the server where we are.
          this.positions.delete(aggregateId);
          try {
            return (await this.positionAt(outcome.seq, subject)).version;
          } catch (e) {
            throw this.wrap(e, `append to ${aggregateId}`);
          }
        }
        this.remember(aggregateId, { version: outcome.version, seq: outcome.seq });
        return outcome.version;
      }
      this.positions.delete(aggregateId);
      if (expected === undefined && attempt < this.opts.maxRetries) continue;
      throw await this.conflict(aggregateId, subject, expected ?? base.version, outcome.cause);
    }
  }

  async read(aggregateId: string, options: ReadOptions = {}): Promise<StoredEvent[]> {
    checkAggregateId(aggregateId);
    const from = options.fromVersion ?? 1;
    if (!Number.isInteger(from) || from < 1) {
      throw new RangeError(`read: fromVersion must be an integer >= 1, got ${String(from)}`);
    }
    if (!this.ready) await this.whenReady('read');
    const subject = this.subjectFor(aggregateId);
    const last = await this.lastOf(subject, 'read');
    if (last === undefined) return [];
    this.remember(aggregateId, last);
    if (from > last.version) return [];
    if (from === last.version) return [this.decode(last.msg.data, last.seq, subject)];
    if (this.direct && last.version <= this.opts.directReadLimit) return this.readDirect(subject, last, from);
    return this.readWithConsumer(subject, last, from);
  }

  async version(aggregateId: string): Promise<number> {
    checkAggregateId(aggregateId);
    if (!this.ready) await this.whenReady('version');
    const last = await this.lastOf(this.subjectFor(aggregateId), 'version');
    if (last === undefined) return 0;
    this.remember(aggregateId, last);
    return last.version;
  }

  async readByCorrelation(correlationId: string): Promise<StoredEvent[]> {
    if (typeof correlationId !== 'string' || correlationId === '') {
      throw new TypeError(
        `readByCorrelation: correlationId must be a non-empty string, got ${JSON.stringify(correlationId)}`,
      );
    }
    if (!this.ready) await this.whenReady('readByCorrelation');
    const found: StoredEvent[] = [];
    const text = new TextDecoder();
    await this.scan('readByCorrelation', { deliver_policy: DeliverPolicy.All }, (m) => {
      const body = text.decode(m.data);
      // Cheap pre-filter: a match must contain the id somewhere in the JSON text.
      if (!body.includes(correlationId)) return true;
      const event = this.decodeText(body, m.seq, m.subject);
      if (event.correlation_id === correlationId || domainCorrelationId(event.data) === correlationId)
        found.push(event);
      return true;
    });
    return found;
  }

  async readByTimeRange(from: TimeBound, to: TimeBound): Promise<StoredEvent[]> {
    const fromText = timeBound(from, 'from');
    const toText = timeBound(to, 'to');
    if (compareTimestamps(fromText, toText) > 0) {
      throw new RangeError(`readByTimeRange: from (${fromText}) is after to (${toText})`);
    }
    if (!this.ready) await this.whenReady('readByTimeRange');
    const fromMs = parseTimestamp(fromText)?.ms ?? 0;
    const stopAfterMs = (parseTimestamp(toText)?.ms ?? 0) + this.opts.clockSkewMs;
    const startAt = new Date(Math.max(0, fromMs - this.opts.clockSkewMs)).toISOString();
    const found: StoredEvent[] = [];
    await this.scan(
      'readByTimeRange',
      { deliver_policy: DeliverPolicy.StartTime, opt_start_time: startAt },
      (m) => {
        // Stream order is receive order: once the server's time is past `to` + skew, nothing later can match.
        if (m.info.timestampNanos / 1e6 > stopAfterMs) return false;
        const event = this.decode(m.data, m.seq, m.subject);
        if (
          compareTimestamps(event.timestamp, fromText) >= 0 &&
          compareTimestamps(event.timestamp, toText) <= 0
        ) {
          found.push(event);
        }
        return true;
      },
    );
    return found;
  }

  // ---- appending ----

  /** Where an append starts: known for version 0, from the cache when it agrees, else looked up. */
  private async basePosition(
    aggregateId: string,
    subject: string,
    expected: number | undefined,
  ): Promise<Position> {
    if (expected === 0) return { version: 0, seq: 0 };
    const cached = this.positions.get(aggregateId);
    if (cached !== undefined && (expected === undefined || cached.version === expected)) return cached;
    const last = await this.lastOf(subject, 'append');
    const position: Position =
      last === undefined ? { version: 0, seq: 0 } : { version: last.version, seq: last.seq };
    if (expected !== undefined && position.version !== expected) {
      this.positions.delete(aggregateId);
      throw new VersionConflictError(aggregateId, expected, position.version);
    }
    this.remember(aggregateId, position);
    return position;
  }

  /** Publishes the whole batch from `base` in pipelined rounds (see the module header). */
  private async publishBatch(
    aggregateId: string,
    subject: string,
    batch: PreparedBatch,
    base: Position,
  ): Promise<BatchOutcome> {
    const { envelopes } = batch;
    const total = envelopes.length;
    const payloads = envelopes.map((e, i) => {
      e.sequence = base.version + i + 1;
      return JSON.stringify(e);
    });
    let landed = 0;
    let lastSeq = base.seq;
    let duplicates = false;
    while (landed < total) {
      const round = await this.publishRound(subject, envelopes, payloads, base.version, landed, lastSeq);
      duplicates ||= round.duplicates;
      if (round.confirmed > landed) lastSeq = round.lastSeq;
      if (round.failure === undefined) {
        landed = round.confirmed;
        break;
      }
      // The round made progress and then either something was stored elsewhere in the stream in
      // between, or an acknowledgement was lost: go on from the first unconfirmed event with the subject
      // check. Its Nats-Msg-Id makes the server answer "duplicate" (with its sequence) if it had landed.
      const resumable = apiCode(round.failure) === API_WRONG_LAST_MSG_ID || isTimeout(round.failure);
      if (resumable && round.confirmed > landed) {
        landed = round.confirmed;
        continue;
      }
      this.positions.delete(aggregateId);
      if (round.confirmed === 0) {
        if (apiCode(round.failure) === API_WRONG_LAST_SEQUENCE)
          return { kind: 'lost-race', cause: round.failure };
        throw this.wrap(round.failure, `append to ${aggregateId}`);
      }
      const cause =
        apiCode(round.failure) === API_WRONG_LAST_SEQUENCE
          ? new ProsaError(
              'PROSA_VERSION_CONFLICT',
              `another writer appended to ${aggregateId} after event ${round.confirmed} of this batch`,
              { cause: round.failure },
            )
          : this.wrap(round.failure, `append to ${aggregateId}`);
      throw new PartialAppendError(aggregateId, round.confirmed, total, base.version + round.confirmed, {
        cause,
      });
    }
    return { kind: 'stored', version: base.version + total, seq: lastSeq, duplicates };
  }

  /**
   * Publishes events [start, total) with at most `batchWindow` unacknowledged: the first expects the
   * subject's last sequence to be `expectSeq`, each next one the stream's last message id to be its
   * predecessor's. Stops at the first refusal and waits for the publishes still in flight.
   */
  private async publishRound(
    subject: string,
    envelopes: readonly StoredEvent[],
    payloads: readonly string[],
    baseVersion: number,
    start: number,
    expectSeq: number,
  ): Promise<Round> {
    const total = payloads.length;
    const window = this.opts.batchWindow;
    const inFlight: Promise<Settled>[] = [];
    const timeout = this.opts.timeoutMs;
    let next = start;
    let confirmed = start;
    let lastSeq = expectSeq;
    let duplicates = false;
    let failure: unknown;
    while (confirmed < total) {
      for (; next < total && next - confirmed < window; next++) {
        const event = envelopes[next] as StoredEvent;
        const h: MsgHdrs = headers();
        h.set(EVENT_TYPE_HEADER, event.event_type);
        h.set(VERSION_HEADER, String(baseVersion + next + 1));
        const expect =
          next === start
            ? { lastSubjectSequence: expectSeq }
            : { lastMsgID: (envelopes[next - 1] as StoredEvent).event_id };
        inFlight.push(
          settle(
            this.js.publish(subject, payloads[next] as string, {
              msgID: event.event_id,
              headers: h,
              expect,
              timeout,
            }),
          ),
        );
      }
      const settled = await (inFlight[confirmed - start] as Promise<Settled>);
      if (!settled.ok) {
        failure = settled.error;
        break;
      }
      lastSeq = settled.ack.seq;
      duplicates ||= settled.ack.duplicate;
      confirmed++;
    }
    // The later ones of a refused round fail too (their predecessor is missing); let them finish so the
    // next round is not overtaken by stale publishes.
    if (failure !== undefined) await Promise.all(inFlight.slice(confirmed - start + 1));
    return { confirmed, lastSeq, duplicates, failure };
  }

  /** The conflict error for a refused first event: the actual version is read at the sequence the server reported. */
  private async conflict(
    aggregateId: string,
    subject: string,
    expected: number,
    cause: unknown,
  ): Promise<Error> {
    let actual: number | undefined;
    try {
      const reported = WRONG_LAST_SEQUENCE.exec(errorMessage(cause))?.[1];
      if (reported !== undefined) actual = (await this.positionAt(Number(reported), subject)).version;
    } catch {
      actual = undefined; // the error still names the aggregate and the expected version
    }
    return new VersionConflictError(aggregateId, expected, actual, { cause });
  }

  private remember(aggregateId: string, position: Position): void {
    const positions = this.positions;
    positions.delete(aggregateId);
    positions.set(aggregateId, { version: position.version, seq: position.seq });
    if (positions.size > this.opts.versionCacheSize) {
      const oldest = positions.keys().next();
      if (!oldest.done) positions.delete(oldest.value);
    }
  }

  // ---- lookups ----

  /** The subject's last message and the version it carries; undefined when the subject has none. */
  private async lastOf(subject: string, what: string): Promise<LastMessage | undefined> {
    let msg: StoredMsg | null;
    try {
      const jsm = this.jsm as JetStreamManager;
      msg = this.direct
        ? await jsm.direct.getMessage(this.stream, { last_by_subj: subject })
        : await jsm.streams.getMessage(this.stream, { last_by_subj: subject });
    } catch (e) {
      throw this.wrap(e, what);
    }
    if (msg === null) return undefined;
    return { version: await this.versionOf(msg, subject), seq: msg.seq, msg };
  }

  /** The aggregate's position at stream sequence `seq` (0 = before its first event). */
  private async positionAt(seq: number, subject: string): Promise<Position> {
    if (seq === 0) return { version: 0, seq: 0 };
    const jsm = this.jsm as JetStreamManager;
    const msg = this.direct
      ? await jsm.direct.getMessage(this.stream, { seq })
      : await jsm.streams.getMessage(this.stream, { seq });
    if (msg === null)
      throw new ProsaError('PROSA_STREAM_MISSING', `stream ${this.stream} has no message ${seq}`);
    return { version: await this.versionOf(msg, subject), seq };
  }

  /** The version a message carries; for a message without the header, the subject's message count. */
  private async versionOf(msg: StoredMsg, subject: string): Promise<number> {
    const v = Number(msg.header?.get(VERSION_HEADER) || Number.NaN);
    if (Number.isInteger(v) && v > 0) return v;
    // Written by something other than prosa: count the subject's messages up to here (exact unless
    // limits dropped some of them).
    const info = await (this.jsm as JetStreamManager).streams.info(this.stream, { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  }

  // ---- reading ----

  /** Reads a short aggregate with `next_by_subj` direct gets, up to its last message (already known). */
  private async readDirect(subject: string, last: LastMessage, from: number): Promise<StoredEvent[]> {
    const jsm = this.jsm as JetStreamManager;
    const events: StoredEvent[] = [];
    let seq = 1;
    let position = 0;
    for (;;) {
      let msg: StoredMsg | null;
      try {
        msg = await jsm.direct.getMessage(this.stream, { seq, next_by_subj: subject });
      } catch (e) {
        throw this.wrap(e, 'read');
      }
      if (msg === null || msg.seq >= last.seq) break;
      position++;
      if ((versionHeader(msg.header) ?? position) >= from)
        events.push(this.decode(msg.data, msg.seq, subject));
      seq = msg.seq + 1;
    }
    events.push(this.decode(last.msg.data, last.seq, subject));
    return events;
  }

  /** Reads an aggregate with an ephemeral consumer on its subject, up to its last message (already known). */
  private async readWithConsumer(subject: string, last: LastMessage, from: number): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    let position = 0;
    await this.scan('read', { filter_subject: subject, deliver_policy: DeliverPolicy.All }, (m) => {
      if (m.seq > last.seq) return false;
      position++;
      const version = versionHeader(m.headers) ?? position;
      if (version >= from) events.push(this.decode(m.data, m.seq, subject));
      return m.seq < last.seq;
    });
    return events;
  }

  /**
   * Runs `visit` over the messages pending for a fresh ephemeral consumer (default filter: the store's
   * subjects) until it returns false or they are all seen, then deletes the consumer.
   */
  private async scan(
    what: string,
    config: Partial<ConsumerConfig>,
    visit: (m: JsMsg) => boolean,
  ): Promise<void> {
    const jsm = this.jsm as JetStreamManager;
    const name = `prosa_es_${nuid.next()}`;
    let created = false;
    try {
      const info = await jsm.consumers.add(this.stream, {
        name,
        filter_subject: `${this.subjectPrefix}.>`,
        ack_policy: AckPolicy.None,
        mem_storage: true,
        num_replicas: 1,
        // A safety net only: the consumer is deleted below even when the read fails.
        inactive_threshold: nanos(Math.max(30_000, this.opts.timeoutMs * 2)),
        ...config,
      });
      created = true;
      let pending = info.num_pending;
      const consumer = this.js.consumers.getConsumerFromInfo(info);
      while (pending > 0) {
        const messages = await consumer.fetch({
          max_messages: Math.min(pending, this.opts.readChunk),
          expires: Math.max(1_000, this.opts.timeoutMs),
        });
        let received = 0;
        let more = true;
        for await (const m of messages) {
          received++;
          pending = m.info.pending;
          if (!visit(m)) {
            more = false;
            break;
          }
          if (pending === 0) break;
        }
        if (!more) break;
        if (received === 0) {
          throw new ProsaError(
            'PROSA_TIMEOUT',
            `${what}: stream ${this.stream} delivered nothing in ${this.opts.timeoutMs} ms while ${pending} messages were pending`,
          );
        }
      }
    } catch (e) {
      throw this.wrap(e, what);
    } finally {
      if (created) await jsm.consumers.delete(this.stream, name).catch(() => false);
    }
  }

  private decode(data: Uint8Array, seq: number, subject: string): StoredEvent {
    return this.decodeText(textDecoder.decode(data), seq, subject);
  }

  private decodeText(text: string, seq: number, subject: string): StoredEvent {
    try {
      return checkEnvelope(JSON.parse(text));
    } catch (e) {
      throw new InvalidEventError(`stream ${this.stream} message ${seq} on ${subject}: ${errorMessage(e)}`, {
        cause: e,
      });
    }
  }

  // ---- connection, stream and errors ----

  private manager(): Promise<JetStreamManager> {
    this.jsmPromise ??= jetstreamManager(this.nc, { checkAPI: false, timeout: this.opts.timeoutMs }).then(
      (jsm) => {
        this.jsm = jsm;
        return jsm;
      },
    );
    return this.jsmPromise;
  }

  /** Checks once that the stream exists and learns whether it allows direct gets. */
  private whenReady(what: string): Promise<void> {
    this.assertOpen(what);
    this.readyPromise ??= (async () => {
      const jsm = await this.manager();
      try {
        const info = await jsm.streams.info(this.stream);
        this.direct = info.config.allow_direct === true;
        this.ready = true;
      } catch (e) {
        this.readyPromise = undefined;
        throw this.wrap(e, what);
      }
    })();
    return this.readyPromise;
  }

  private assertOpen(what: string): void {
    if (this.nc.isClosed()) {
      throw new ProsaError(
        'PROSA_NATS_UNREACHABLE',
        `${what} on stream ${this.stream}: the NATS connection is closed; give createEventStore an open connection`,
      );
    }
  }

  /** Turns a nats.js failure into a ProsaError that says what to do. */
  private wrap(e: unknown, what: string): Error {
    if (e instanceof ProsaError) return e;
    const name = e instanceof Error ? e.name : '';
    const code = apiCode(e);
    const where = `${what} on stream ${this.stream}`;
    if (name === 'ClosedConnectionError' || this.nc.isClosed()) {
      return new ProsaError(
        'PROSA_NATS_UNREACHABLE',
        `${where}: the NATS connection is closed; give createEventStore an open connection`,
        { cause: e },
      );
    }
    if (code === API_STREAM_NOT_FOUND || name === 'StreamNotFoundError') {
      return new ProsaError(
        'PROSA_STREAM_MISSING',
        `${where}: the stream does not exist; create it with subjects ['${this.subjectPrefix}.>'] (store.ensureStream() does)`,
        { cause: e },
      );
    }
    if (name === 'JetStreamNotEnabled') {
      // The stream was found at start, so no responder means no stream captures the subject.
      return this.ready
        ? new ProsaError(
            'PROSA_STREAM_MISSING',
            `${where}: no stream captures the subject; stream ${this.stream} must have subject '${this.subjectPrefix}.>'`,
            { cause: e },
          )
        : new ProsaError(
            'PROSA_JETSTREAM_DISABLED',
            `${where}: the server has no JetStream; start nats-server with -js`,
            { cause: e },
          );
    }
    if (code === API_JETSTREAM_NOT_ENABLED) {
      return new ProsaError(
        'PROSA_JETSTREAM_DISABLED',
        `${where}: JetStream is not enabled for this account`,
        {
          cause: e,
        },
      );
    }
    if (name === 'TimeoutError') {
      return new ProsaError('PROSA_TIMEOUT', `${where}: no answer within ${this.opts.timeoutMs} ms`, {
        cause: e,
      });
    }
    return e instanceof Error ? e : new Error(String(e));
  }
}

const textDecoder = new TextDecoder();

// UUID v7 from a pooled random buffer. uuid's default draws crypto.getRandomValues for every id
// (1.8 µs here, ~8% of a single-event append's CPU); filling 256 ids' worth at once costs 0.2 µs an id.
const randomPool = new Uint8Array(16 * 256);
let randomAt = randomPool.length;
function newUuidV7(): string {
  if (randomAt === randomPool.length) {
    randomFillSync(randomPool);
    randomAt = 0;
  }
  const random = randomPool.subarray(randomAt, randomAt + 16);
  randomAt += 16;
  return uuidv7({ random });
}

function prepare<D>(
  aggregateId: string,
  events: readonly NewEvent<D>[],
  options: AppendOptions,
): PreparedBatch {
  const correlationId = options.correlationId ?? newUuidV7();
  checkUuid(correlationId, 'correlationId');
  if (options.causationId != null) checkUuid(options.causationId, 'causationId');
  const timestamp = new Date().toISOString();
  const seen = new Set<string>();
  const envelopes = events.map((e, i) => {
    if (typeof e?.eventType !== 'string' || e.eventType === '' || /[\r\n]/.test(e.eventType)) {
      throw new TypeError(`append: events[${i}].eventType must be a non-empty one-line string`);
    }
    if (e.eventId !== undefined) checkUuid(e.eventId, `events[${i}].eventId`);
    if (e.correlationId !== undefined) checkUuid(e.correlationId, `events[${i}].correlationId`);
    if (e.causationId != null) checkUuid(e.causationId, `events[${i}].causationId`);
    const envelope: StoredEvent = makeEnvelope<unknown>({
      aggregateId,
      eventType: e.eventType,
      data: e.data,
      eventId: e.eventId ?? newUuidV7(),
      correlationId: e.correlationId ?? correlationId,
      causationId: e.causationId !== undefined ? e.causationId : options.causationId,
      timestamp,
      metadata: e.metadata,
    });
    if (seen.has(envelope.event_id)) {
      throw new TypeError(`append: events[${i}].eventId ${envelope.event_id} appears twice in the batch`);
    }
    seen.add(envelope.event_id);
    return envelope;
  });
  return { envelopes };
}

function checkAggregateId(aggregateId: string): void {
  // DESIGN 3.1: what prosa writes uses uuids for aggregate_id, so the crates' decoders accept it.
  if (!isUuid(aggregateId)) {
    throw new TypeError(`aggregate id must be a uuid string, got ${JSON.stringify(aggregateId)}`);
  }
}

function checkUuid(value: unknown, field: string): void {
  if (!isUuid(value))
    throw new TypeError(`append: ${field} must be a uuid string, got ${JSON.stringify(value)}`);
}

function timeBound(value: TimeBound, field: string): string {
  const text = value instanceof Date ? (Number.isNaN(value.getTime()) ? '' : value.toISOString()) : value;
  if (!parseTimestamp(text)) {
    throw new TypeError(
      `readByTimeRange: ${field} must be a Date or an RFC 3339 string, got ${String(value)}`,
    );
  }
  return text;
}

/** The version in a message's `Prosa-Version` header, if it has one. */
function versionHeader(h: MsgHdrs | undefined): number | undefined {
  const v = Number(h?.get(VERSION_HEADER) || Number.NaN);
  return Number.isInteger(v) && v > 0 ? v : undefined;
}

/** The domain event's correlation id: `data.correlation_id` or, for a tagged enum, `data.<Variant>.correlation_id`. */
function domainCorrelationId(data: unknown): unknown {
  if (typeof data !== 'object' || data === null) return undefined;
  const d = data as Record<string, unknown>;
  if ('correlation_id' in d) return d.correlation_id;
  const keys = Object.keys(d);
  if (keys.length !== 1) return undefined;
  const inner = d[keys[0] as string];
  return typeof inner === 'object' && inner !== null
    ? (inner as Record<string, unknown>).correlation_id
    : undefined;
}

const isTimeout = (e: unknown): boolean => e instanceof Error && e.name === 'TimeoutError';

function apiCode(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null || !('code' in e)) return undefined;
  const code = (e as { code: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
