/**
 * What an operator does with dead letters: list them with their reasons, feed them again to their
 * worker after a fix (each applied once, or dead-lettered again with the new reason), or purge
 * them. The DLQ stream holds the messages; prosa_dead_letters holds their resolution.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import type { RawEvent } from '../define/projection.js';
import type { OutOfOrderOutcome } from '../engine/projectionEngine.js';
import { DLQ_HEADERS } from '../runtime/deadLetterDispatcher.js';
import type { SqliteDatabase } from '../store/database.js';

export const DLQ_STREAM = 'DLQ';

export interface DeadLetterEntry {
  /** The consumer (worker) that dead-lettered it. */
  consumer: string;
  /** Sequence of the dead letter in the DLQ stream. */
  dlqSeq: number;
  /** Where the event came from. */
  stream: string;
  seq: number;
  subject: string;
  reason: string;
  /** When it was dead-lettered (RFC 3339). */
  time: string;
  data: Uint8Array;
}

/** The dead letters in the DLQ stream, oldest first; of one consumer when given. Never hangs. */
export async function listDeadLetters(
  js: JetStreamClient,
  jsm: JetStreamManager,
  consumer?: string,
): Promise<DeadLetterEntry[]> {
  const filter = consumer ? `dlq.${consumer}` : 'dlq.>';
  let count: number;
  try {
    const info = await jsm.streams.info(DLQ_STREAM, { subjects_filter: filter });
    count = Object.values(info.state.subjects ?? {}).reduce((n, c) => n + c, 0);
  } catch {
    return [];
  }
  if (count === 0) return [];
  const ordered = await js.consumers.get(DLQ_STREAM, {
    filter_subjects: filter,
    deliver_policy: DeliverPolicy.All,
  });
  const out: DeadLetterEntry[] = [];
  const messages = await ordered.fetch({ max_messages: count, expires: 5_000 });
  for await (const m of messages) {
    const h = m.headers;
    out.push({
      consumer: m.subject.slice('dlq.'.length),
      dlqSeq: m.seq,
      stream: h?.get(DLQ_HEADERS.stream) ?? '',
      seq: Number(h?.get(DLQ_HEADERS.seq) ?? 0),
      subject: h?.get(DLQ_HEADERS.subject) ?? '',
      reason: h?.get(DLQ_HEADERS.reason) ?? '',
      time: m.time.toISOString(),
      data: m.data,
    });
    if (m.info.pending === 0) break;
  }
  await ordered.delete().catch(() => {});
  return out;
}

/** Removes a consumer's dead letters from the DLQ stream and marks them purged. Returns how many. */
export async function purgeDeadLetters(
  jsm: JetStreamManager,
  db: SqliteDatabase | undefined,
  consumer: string,
  worker: string,
): Promise<number> {
  const r = await jsm.streams.purge(DLQ_STREAM, { filter: `dlq.${consumer}` });
  db?.prepare(
    "UPDATE prosa_dead_letters SET resolution = 'purged', resolved_at = ? WHERE worker = ? AND resolution IS NULL",
  ).run(new Date().toISOString(), worker);
  return r.purged;
}

/** The messages to feed again, minus those already retried successfully (each is applied once). */
export function retryable(
  db: SqliteDatabase,
  worker: string,
  entries: readonly DeadLetterEntry[],
): RawEvent[] {
  const resolved = db
    .prepare(
      "SELECT 1 FROM prosa_dead_letters WHERE worker = ? AND stream_seq = ? AND resolution = 'retried'",
    )
    .pluck();
  return entries
    .filter((e) => resolved.get(worker, e.seq) === undefined)
    .map((e) => ({ seq: e.seq, subject: e.subject, data: e.data }));
}

/**
 * Records a retry's outcome in the same transaction as its effects: applied -> resolved; failed
 * again -> the new reason and a new attempt, so the dispatcher publishes it again under a new id.
 */
export function retryRecorder(
  db: SqliteDatabase,
  worker: string,
  stream: string,
): (outcome: OutOfOrderOutcome) => void {
  const resolved = db.prepare(
    "INSERT INTO prosa_dead_letters (worker, stream, stream_seq, subject, body, reason, created_at, resolution, resolved_at) VALUES (?, ?, ?, '', x'', 'retried', ?, 'retried', ?) ON CONFLICT (worker, stream_seq) DO UPDATE SET resolution = 'retried', resolved_at = excluded.resolved_at",
  );
  const failed = db.prepare(
    'UPDATE prosa_dead_letters SET reason = ?, attempts = attempts + 1, published_at = NULL WHERE worker = ? AND stream_seq = ?',
  );
  return (outcome) => {
    const at = new Date().toISOString();
    if (outcome.applied) resolved.run(worker, stream, outcome.seq, at, at);
    else failed.run(outcome.reason, worker, outcome.seq);
  };
}

/** After a retry: applied or re-dead-lettered letters leave the DLQ stream (the latter come back under a new id). */
export async function removeFromDlq(
  jsm: JetStreamManager,
  entries: readonly DeadLetterEntry[],
  outcomes: readonly OutOfOrderOutcome[],
): Promise<void> {
  const done = new Set(outcomes.map((o) => o.seq));
  for (const e of entries) {
    if (done.has(e.seq)) await jsm.streams.deleteMessage(DLQ_STREAM, e.dlqSeq, false).catch(() => false);
  }
}

/** Base64 wire form of messages for a control request. */
export const encodeMessages = (messages: readonly RawEvent[]) =>
  messages.map((m) => ({ seq: m.seq, subject: m.subject, data: Buffer.from(m.data).toString('base64') }));
export const decodeMessages = (body: unknown): RawEvent[] =>
  ((body as { messages?: { seq: number; subject: string; data: string }[] }).messages ?? []).map((m) => ({
    seq: m.seq,
    subject: m.subject,
    data: new Uint8Array(Buffer.from(m.data, 'base64')),
  }));
