/**
 * What the event store publishes and how it reads it back.
 *
 * Each aggregate has its own exact subject `<subjectPrefix>.<aggregateId>`; each event is one
 * message whose body is the CIM envelope (made by `makeEnvelope`, `sequence` = the event's version)
 * with headers `Nats-Msg-Id` = event_id, `Prosa-Event-Type` and `Prosa-Version` (the aggregate's
 * version after this event, 1-based). The version of an aggregate is its number of events; the
 * header lets a single direct get of the subject's last message tell it.
 */

import { randomFillSync } from 'node:crypto';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { v7 as uuidv7 } from 'uuid';
import { checkEnvelope, isUuid, makeEnvelope, type StoredEvent } from '../cim/envelope.js';
import { InvalidEventError } from '../errors.js';
import { type Clock, isoNow, systemClock } from '../time/clock.js';

/** Header with the aggregate's version after the event (1 for its first event). */
export const VERSION_HEADER = 'Prosa-Version';
/** Header with the envelope's `event_type`. */
export const EVENT_TYPE_HEADER = 'Prosa-Event-Type';

/**
 * An event to append: the envelope fields the caller chooses. The envelope's `timestamp` is always
 * the append time; a domain time belongs inside `data`.
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

/** The ids an append gives every event of its batch that names none. */
export interface BatchIds {
  correlationId?: string;
  causationId?: string | null;
  /** Where the events' timestamp comes from. @default systemClock */
  clock?: Clock;
}

const SUBJECT_TOKENS = /^[^\s.*>]+(\.[^\s.*>]+)*$/;
const STREAM_NAME = /^[^\s.*>/\\]+$/;

/** Whether `name` can name a stream (no spaces, '.', '*', '>', '/', '\'). */
export const isStreamName = (name: unknown): boolean => typeof name === 'string' && STREAM_NAME.test(name);

/** Whether `prefix` is one or more subject tokens without wildcards. */
export const isSubjectPrefix = (prefix: string): boolean => SUBJECT_TOKENS.test(prefix);

/** The exact subject of an aggregate. */
export const aggregateSubject = (subjectPrefix: string, aggregateId: string): string =>
  `${subjectPrefix}.${aggregateId}`;

/** The subjects of every aggregate of a store: what its stream must capture. */
export const storeSubjects = (subjectPrefix: string): string => `${subjectPrefix}.>`;

/** The headers of an event published as the aggregate's version `version`. */
export function eventHeaders(eventType: string, version: number): MsgHdrs {
  const h = headers();
  h.set(EVENT_TYPE_HEADER, eventType);
  h.set(VERSION_HEADER, String(version));
  return h;
}

/** The version in a message's `Prosa-Version` header, if it has one. */
export function versionHeader(h: MsgHdrs | undefined): number | undefined {
  const v = Number(h?.get(VERSION_HEADER) || Number.NaN);
  return Number.isInteger(v) && v > 0 ? v : undefined;
}

/**
 * The envelopes of a batch, with fixed ids and one append time; the caller sets `sequence` per
 * attempt. Checks every id the caller gave and that no event id appears twice.
 */
export function prepareBatch<D>(
  aggregateId: string,
  events: readonly NewEvent<D>[],
  ids: BatchIds,
): StoredEvent[] {
  const correlationId = ids.correlationId ?? newUuidV7();
  checkUuid(correlationId, 'correlationId');
  if (ids.causationId != null) checkUuid(ids.causationId, 'causationId');
  const timestamp = isoNow(ids.clock ?? systemClock);
  const seen = new Set<string>();
  return events.map((e, i) => {
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
      causationId: e.causationId !== undefined ? e.causationId : ids.causationId,
      timestamp,
      metadata: e.metadata,
    });
    if (seen.has(envelope.event_id)) {
      throw new TypeError(`append: events[${i}].eventId ${envelope.event_id} appears twice in the batch`);
    }
    seen.add(envelope.event_id);
    return envelope;
  });
}

/** Refuses an aggregate id that is not a uuid: the crates' decoders expect one in `aggregate_id`. */
export function checkAggregateId(aggregateId: string): void {
  if (!isUuid(aggregateId)) {
    throw new TypeError(`aggregate id must be a uuid string, got ${JSON.stringify(aggregateId)}`);
  }
}

function checkUuid(value: unknown, field: string): void {
  if (!isUuid(value))
    throw new TypeError(`append: ${field} must be a uuid string, got ${JSON.stringify(value)}`);
}

const textDecoder = new TextDecoder();

/** A stored message's envelope; an InvalidEventError names the stream, sequence and subject. */
export function decodeEvent(data: Uint8Array, stream: string, seq: number, subject: string): StoredEvent {
  return decodeEventText(textDecoder.decode(data), stream, seq, subject);
}

/** As `decodeEvent`, for a body already decoded to text. */
export function decodeEventText(text: string, stream: string, seq: number, subject: string): StoredEvent {
  try {
    return checkEnvelope(JSON.parse(text));
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new InvalidEventError(`stream ${stream} message ${seq} on ${subject}: ${why}`, { cause: e });
  }
}

// UUID v7 from a pooled random buffer: uuid's default draws crypto.getRandomValues for every id, a
// visible share of a single-event append's CPU; one fill serves 256 ids.
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
