/**
 * Reading aggregates' events back, bounded, leaving nothing behind.
 *
 * `read` and `version` start with one direct get of the subject's last message (an unknown
 * aggregate answers after that one round trip); an aggregate of up to `directReadLimit` events is
 * read with direct gets (`next_by_subj`), a longer one, like `readByCorrelation` and
 * `readByTimeRange`, with an ephemeral pull consumer (memory storage, `ack_policy: none`, a short
 * `inactive_threshold` as a safety net) that is deleted explicitly in a `finally`, and that reads
 * exactly the messages pending when it was created, each fetch expiring after `timeoutMs`.
 * `readByCorrelation` scans all of the store's subjects; `readByTimeRange` starts at the server time
 * `from - clockSkewMs` and stops past `to + clockSkewMs`, which assumes the envelope timestamp is
 * the append time.
 */

import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  type JsMsg,
  type StoredMsg,
} from '@nats-io/jetstream';
import { nanos, nuid } from '@nats-io/transport-node';
import { compareTimestamps, parseTimestamp, type StoredEvent } from '../cim/envelope.js';
import { ProsaError } from '../errors.js';
import type { LastMessage, StreamAccess } from './streamAccess.js';
import { checkAggregateId, decodeEvent, decodeEventText, storeSubjects, versionHeader } from './wire.js';

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

/** The aggregate's events in order, from `fromVersion`; [] for an unknown aggregate. */
export async function read(
  access: StreamAccess,
  aggregateId: string,
  options: ReadOptions = {},
): Promise<StoredEvent[]> {
  checkAggregateId(aggregateId);
  const from = options.fromVersion ?? 1;
  if (!Number.isInteger(from) || from < 1) {
    throw new RangeError(`read: fromVersion must be an integer >= 1, got ${String(from)}`);
  }
  if (!access.ready) await access.whenReady('read');
  const subject = access.subjectFor(aggregateId);
  const last = await access.lastOf(subject, 'read');
  if (last === undefined) return [];
  access.remember(aggregateId, last);
  if (from > last.version) return [];
  if (from === last.version) return [decodeEvent(last.msg.data, access.stream, last.seq, subject)];
  if (access.direct && last.version <= access.opts.directReadLimit)
    return readDirect(access, subject, last, from);
  return readWithConsumer(access, subject, last, from);
}

/** The aggregate's version (its number of events); 0 for an unknown aggregate. */
export async function version(access: StreamAccess, aggregateId: string): Promise<number> {
  checkAggregateId(aggregateId);
  if (!access.ready) await access.whenReady('version');
  const last = await access.lastOf(access.subjectFor(aggregateId), 'version');
  if (last === undefined) return 0;
  access.remember(aggregateId, last);
  return last.version;
}

/** Every event of the store whose envelope or domain `correlation_id` is `correlationId`, in stream order. */
export async function readByCorrelation(access: StreamAccess, correlationId: string): Promise<StoredEvent[]> {
  if (typeof correlationId !== 'string' || correlationId === '') {
    throw new TypeError(
      `readByCorrelation: correlationId must be a non-empty string, got ${JSON.stringify(correlationId)}`,
    );
  }
  if (!access.ready) await access.whenReady('readByCorrelation');
  const found: StoredEvent[] = [];
  const text = new TextDecoder();
  await scan(access, 'readByCorrelation', { deliver_policy: DeliverPolicy.All }, (m) => {
    const body = text.decode(m.data);
    // Cheap pre-filter: a match must contain the id somewhere in the JSON text.
    if (!body.includes(correlationId)) return true;
    const event = decodeEventText(body, access.stream, m.seq, m.subject);
    if (event.correlation_id === correlationId || domainCorrelationId(event.data) === correlationId)
      found.push(event);
    return true;
  });
  return found;
}

/** Every event of the store whose envelope timestamp is within [from, to] as instants, in stream order. */
export async function readByTimeRange(
  access: StreamAccess,
  from: TimeBound,
  to: TimeBound,
): Promise<StoredEvent[]> {
  const fromText = timeBound(from, 'from');
  const toText = timeBound(to, 'to');
  if (compareTimestamps(fromText, toText) > 0) {
    throw new RangeError(`readByTimeRange: from (${fromText}) is after to (${toText})`);
  }
  if (!access.ready) await access.whenReady('readByTimeRange');
  const fromMs = parseTimestamp(fromText)?.ms ?? 0;
  const stopAfterMs = (parseTimestamp(toText)?.ms ?? 0) + access.opts.clockSkewMs;
  const startAt = new Date(Math.max(0, fromMs - access.opts.clockSkewMs)).toISOString();
  const found: StoredEvent[] = [];
  await scan(
    access,
    'readByTimeRange',
    { deliver_policy: DeliverPolicy.StartTime, opt_start_time: startAt },
    (m) => {
      // Stream order is receive order: once the server's time is past `to` + skew, nothing later can match.
      if (m.info.timestampNanos / 1e6 > stopAfterMs) return false;
      const event = decodeEvent(m.data, access.stream, m.seq, m.subject);
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

/** Reads a short aggregate with `next_by_subj` direct gets, up to its last message (already known). */
async function readDirect(
  access: StreamAccess,
  subject: string,
  last: LastMessage,
  from: number,
): Promise<StoredEvent[]> {
  const jsm = access.jsm;
  const events: StoredEvent[] = [];
  let seq = 1;
  let position = 0;
  for (;;) {
    let msg: StoredMsg | null;
    try {
      msg = await jsm.direct.getMessage(access.stream, { seq, next_by_subj: subject });
    } catch (e) {
      throw access.wrap(e, 'read');
    }
    if (msg === null || msg.seq >= last.seq) break;
    position++;
    if ((versionHeader(msg.header) ?? position) >= from)
      events.push(decodeEvent(msg.data, access.stream, msg.seq, subject));
    seq = msg.seq + 1;
  }
  events.push(decodeEvent(last.msg.data, access.stream, last.seq, subject));
  return events;
}

/** Reads an aggregate with an ephemeral consumer on its subject, up to its last message (already known). */
async function readWithConsumer(
  access: StreamAccess,
  subject: string,
  last: LastMessage,
  from: number,
): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  let position = 0;
  await scan(access, 'read', { filter_subject: subject, deliver_policy: DeliverPolicy.All }, (m) => {
    if (m.seq > last.seq) return false;
    position++;
    const version = versionHeader(m.headers) ?? position;
    if (version >= from) events.push(decodeEvent(m.data, access.stream, m.seq, subject));
    return m.seq < last.seq;
  });
  return events;
}

/**
 * Runs `visit` over the messages pending for a fresh ephemeral consumer (default filter: the store's
 * subjects) until it returns false or they are all seen, then deletes the consumer.
 */
async function scan(
  access: StreamAccess,
  what: string,
  config: Partial<ConsumerConfig>,
  visit: (m: JsMsg) => boolean,
): Promise<void> {
  const { jsm, stream, opts } = access;
  const name = `prosa_es_${nuid.next()}`;
  let created = false;
  try {
    const info = await jsm.consumers.add(stream, {
      name,
      filter_subject: storeSubjects(access.subjectPrefix),
      ack_policy: AckPolicy.None,
      mem_storage: true,
      num_replicas: 1,
      // A safety net only: the consumer is deleted below even when the read fails.
      inactive_threshold: nanos(Math.max(30_000, opts.timeoutMs * 2)),
      ...config,
    });
    created = true;
    let pending = info.num_pending;
    const consumer = access.js.consumers.getConsumerFromInfo(info);
    while (pending > 0) {
      const messages = await consumer.fetch({
        max_messages: Math.min(pending, opts.readChunk),
        expires: Math.max(1_000, opts.timeoutMs),
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
          `${what}: stream ${stream} delivered nothing in ${opts.timeoutMs} ms while ${pending} messages were pending`,
        );
      }
    }
  } catch (e) {
    throw access.wrap(e, what);
  } finally {
    if (created) await jsm.consumers.delete(stream, name).catch(() => false);
  }
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
