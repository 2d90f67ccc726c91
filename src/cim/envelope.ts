/**
 * The CIM crates' `StoredEvent` envelope (docs/wire-format.md#the-cim-envelope): what every event
 * message body is, compact UTF-8 JSON. The envelope's ids and time are the append's, not the domain
 * event's; those are inside `data.<Variant>`. Never order or dedupe on `sequence`: the crates write
 * 1 for every event.
 *
 * This is on the hot path (every consumed message goes through it), so the checks are hand-written,
 * allocate nothing on success and build their message only on failure.
 */
import { v7 as uuidv7 } from 'uuid';
import { InvalidEventError } from '../errors.js';
import { systemClock } from '../time/clock.js';

export interface StoredEvent<D = unknown> {
  event_id: string;
  aggregate_id: string;
  sequence: number;
  /** RFC 3339, UTC; 0, 3, 6 or 9 fraction digits. */
  timestamp: string;
  correlation_id: string;
  causation_id: string | null;
  event_type: string;
  data: D;
  metadata: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);

// RFC 3339 with any fraction length and Z or an offset.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * The instant of an RFC 3339 timestamp as epoch milliseconds (sub-millisecond digits are kept in the
 * fraction returned as `nanos` for exact comparison); undefined if it is not one.
 */
export function parseTimestamp(text: unknown): { ms: number; nanos: number } | undefined {
  if (!isTimestamp(text)) return undefined; // the same grammar, and a real calendar date
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  // A leap second (:60, as chrono writes one) is the instant one second after :59.
  const leap = m[6] === '60';
  const parsed = Date.parse(
    `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${leap ? '59' : m[6]}${m[8]?.toUpperCase() === 'Z' ? 'Z' : m[8]}`,
  );
  if (Number.isNaN(parsed)) return undefined;
  const base = leap ? parsed + 1000 : parsed;
  const fraction = (m[7] ?? '').padEnd(9, '0').slice(0, 9);
  const nanos = Number(fraction);
  return { ms: base + Math.floor(nanos / 1e6), nanos };
}

// Two ASCII digits at i as a number, or -1.
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Whether `text` is an RFC 3339 timestamp (any fraction length, `Z` or an offset, a real calendar
 * date). The same grammar as {@link parseTimestamp}, checked without allocating: the decoders call
 * it for every event.
 */
export function isTimestamp(text: unknown): text is string {
  if (typeof text !== 'string' || text.length < 20) return false;
  const century = twoDigits(text, 0);
  const yy = twoDigits(text, 2);
  if (century < 0 || yy < 0) return false;
  const year = century * 100 + yy;
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return false; // '-'
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  if (month < 1 || month > 12 || day < 1 || day > (DAYS_IN_MONTH[month] ?? 0)) return false;
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return false;
  const sep = text.charCodeAt(10);
  if (sep !== 84 && sep !== 116 && sep !== 32) return false; // 'T', 't', ' '
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return false; // ':'
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return false;
  let i = 19;
  if (text.charCodeAt(i) === 46) {
    // '.' then at least one digit
    const start = ++i;
    while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
    if (i === start) return false;
  }
  const zone = text.charCodeAt(i);
  if (zone === 90 || zone === 122) return i + 1 === text.length; // 'Z', 'z'
  if (zone !== 43 && zone !== 45) return false; // '+', '-'
  if (i + 6 !== text.length || text.charCodeAt(i + 3) !== 58) return false;
  const oh = twoDigits(text, i + 1);
  const om = twoDigits(text, i + 4);
  return oh >= 0 && oh <= 23 && om >= 0 && om <= 59;
}

/** Compares two RFC 3339 timestamps as instants: negative, zero or positive. */
export function compareTimestamps(a: string, b: string): number {
  const x = parseTimestamp(a);
  const y = parseTimestamp(b);
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0;
  const xs = Math.floor(x.ms / 1000);
  const ys = Math.floor(y.ms / 1000);
  return xs !== ys ? xs - ys : x.nanos - y.nanos;
}

/** Now as RFC 3339 UTC with millisecond precision, as prosa writes it. */
export const nowTimestamp = (now: number = systemClock.now()): string => new Date(now).toISOString();

/**
 * An instant as the crates' chrono writes a `DateTime<Utc>`: RFC 3339 with `Z` and 0, 3, 6 or 9
 * fraction digits, the fewest that are exact (`SecondsFormat::AutoSi`).
 *
 * @param epochMs whole milliseconds since the epoch
 * @param subMillisecondNanos 0..999_999 nanoseconds below the millisecond
 */
export function formatTimestamp(epochMs: number, subMillisecondNanos = 0): string {
  const iso = new Date(epochMs).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const ms = iso.slice(20, 23);
  if (subMillisecondNanos === 0) return ms === '000' ? `${iso.slice(0, 19)}Z` : iso;
  const sub = String(subMillisecondNanos).padStart(6, '0');
  return sub.endsWith('000') ? `${iso.slice(0, 23)}${sub.slice(0, 3)}Z` : `${iso.slice(0, 23)}${sub}Z`;
}

export interface NewEnvelope<D> {
  aggregateId: string;
  eventType: string;
  data: D;
  /** @default a fresh UUID v7 */
  eventId?: string;
  /** @default a fresh UUID v7 */
  correlationId?: string;
  causationId?: string | null;
  /** @default 1, as the crates write */
  sequence?: number;
  /** @default now */
  timestamp?: string;
  metadata?: unknown;
}

/** An envelope in the crates' field order, ready for JSON.stringify. */
export function makeEnvelope<D>(e: NewEnvelope<D>): StoredEvent<D> {
  const eventId = e.eventId ?? uuidv7();
  return {
    event_id: eventId,
    aggregate_id: e.aggregateId,
    sequence: e.sequence ?? 1,
    timestamp: e.timestamp ?? nowTimestamp(),
    correlation_id: e.correlationId ?? uuidv7(),
    causation_id: e.causationId === undefined ? eventId : e.causationId,
    event_type: e.eventType,
    data: e.data,
    metadata: e.metadata ?? null,
  };
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a message body as UTF-8 JSON; throws InvalidEventError saying which of the two it is not.
 * The one copy it makes is the string JSON.parse needs.
 */
export function parseJsonBody(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new InvalidEventError('body is not valid UTF-8; expected a CIM StoredEvent as UTF-8 JSON');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InvalidEventError(
      `body is not JSON (${(e as Error).message}); expected a CIM StoredEvent as UTF-8 JSON`,
    );
  }
}

/** Parses and checks an envelope; throws InvalidEventError saying what was expected. */
export function decodeEnvelope(bytes: Uint8Array): StoredEvent {
  return checkEnvelope(parseJsonBody(bytes));
}

/** A short JSON rendering of a value for an error message. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Checks the envelope fields of a parsed body in place, allocating nothing when they are right;
 * throws InvalidEventError naming the first bad field, what was expected and what came.
 */
export function assertEnvelopeFields(body: unknown): asserts body is Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidEventError(
      `expected a CIM StoredEvent JSON object, got ${body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body}`,
    );
  }
  const e = body as Record<string, unknown>;
  if (typeof e.event_id !== 'string' || e.event_id === '') throw badField(e, 'event_id', 'a uuid string');
  if (typeof e.aggregate_id !== 'string' || e.aggregate_id === '')
    throw badField(e, 'aggregate_id', 'a uuid string');
  if (typeof e.sequence !== 'number' || !Number.isInteger(e.sequence))
    throw badField(e, 'sequence', 'an integer');
  if (!isTimestamp(e.timestamp)) {
    throw badField(e, 'timestamp', 'an RFC 3339 timestamp like "2025-01-01T00:00:00.123Z"');
  }
  if (typeof e.correlation_id !== 'string') throw badField(e, 'correlation_id', 'a uuid string');
  if (e.causation_id !== null && e.causation_id !== undefined && typeof e.causation_id !== 'string') {
    throw badField(e, 'causation_id', 'a uuid string or null');
  }
  if (typeof e.event_type !== 'string' || e.event_type === '')
    throw badField(e, 'event_type', 'an event type name');
  if (!('data' in e)) throw badField(e, 'data', 'the domain event');
}

// Outside assertEnvelopeFields so the check allocates no closure per event.
const badField = (e: Record<string, unknown>, field: string, expected: string): InvalidEventError =>
  new InvalidEventError(`envelope field ${field}: expected ${expected}, got ${describeValue(e[field])}`);

/** Checks an already parsed envelope; throws InvalidEventError naming the first bad field. */
export function checkEnvelope(body: unknown): StoredEvent {
  assertEnvelopeFields(body);
  // A fixed shape rather than a spread: unknown extra fields are dropped, and every envelope the
  // runtime handles shares one hidden class.
  return {
    event_id: body.event_id as string,
    aggregate_id: body.aggregate_id as string,
    sequence: body.sequence as number,
    timestamp: body.timestamp as string,
    correlation_id: body.correlation_id as string,
    causation_id: (body.causation_id as string | null | undefined) ?? null,
    event_type: body.event_type as string,
    data: body.data,
    metadata: body.metadata ?? null,
  };
}
