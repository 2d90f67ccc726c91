/**
 * The CIM crates' `StoredEvent` envelope (DESIGN 3.1): what every event message body is, compact
 * UTF-8 JSON. The envelope's ids and time are the append's, not the domain event's; those are
 * inside `data.<Variant>`. Never order or dedupe on `sequence`: the crates write 1 for every event.
 */
import { v7 as uuidv7 } from 'uuid';
import { InvalidEventError } from '../errors.js';

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
  if (typeof text !== 'string') return undefined;
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const base = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[8]?.toUpperCase() === 'Z' ? 'Z' : m[8]}`);
  if (Number.isNaN(base)) return undefined;
  const fraction = (m[7] ?? '').padEnd(9, '0').slice(0, 9);
  const nanos = Number(fraction);
  return { ms: base + Math.floor(nanos / 1e6), nanos };
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
export const nowTimestamp = (now: number = Date.now()): string => new Date(now).toISOString();

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

/** Parses and checks an envelope; throws InvalidEventError saying what was expected. */
export function decodeEnvelope(bytes: Uint8Array): StoredEvent {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new InvalidEventError('body is not valid UTF-8; expected a CIM StoredEvent as UTF-8 JSON');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new InvalidEventError(`body is not JSON (${(e as Error).message}); expected a CIM StoredEvent as UTF-8 JSON`);
  }
  return checkEnvelope(body);
}

/** Checks an already parsed envelope; throws InvalidEventError naming the first bad field. */
export function checkEnvelope(body: unknown): StoredEvent {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidEventError(`expected a CIM StoredEvent JSON object, got ${Array.isArray(body) ? 'an array' : typeof body}`);
  }
  const e = body as Record<string, unknown>;
  const bad = (field: string, expected: string) =>
    new InvalidEventError(`envelope field ${field}: expected ${expected}, got ${JSON.stringify(e[field]) ?? 'nothing'}`);
  if (typeof e.event_id !== 'string' || e.event_id === '') throw bad('event_id', 'a uuid string');
  if (typeof e.aggregate_id !== 'string' || e.aggregate_id === '') throw bad('aggregate_id', 'a uuid string');
  if (typeof e.sequence !== 'number' || !Number.isInteger(e.sequence)) throw bad('sequence', 'an integer');
  if (!parseTimestamp(e.timestamp)) throw bad('timestamp', 'an RFC 3339 timestamp like "2025-01-01T00:00:00.123Z"');
  if (typeof e.correlation_id !== 'string') throw bad('correlation_id', 'a uuid string');
  if (e.causation_id !== null && e.causation_id !== undefined && typeof e.causation_id !== 'string') {
    throw bad('causation_id', 'a uuid string or null');
  }
  if (typeof e.event_type !== 'string' || e.event_type === '') throw bad('event_type', 'an event type name');
  if (!('data' in e)) throw bad('data', 'the domain event');
  return { ...(e as unknown as StoredEvent), causation_id: (e.causation_id as string | null | undefined) ?? null, metadata: e.metadata ?? null };
}
