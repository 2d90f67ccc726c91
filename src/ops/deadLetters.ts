/**
 * What an operator does with dead letters: list them with their reasons, feed them again to their
 * worker after a fix (each applied once, or dead-lettered again with the new reason), or purge
 * them. The DLQ stream holds the messages; the store (src/store/deadLetters.ts) holds their resolution.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import type { RawEvent } from '../define/projection.js';
import type { OutOfOrderOutcome } from '../engine/projectionEngine.js';
import { DLQ_HEADERS, DLQ_STREAM } from '../nats/dlq.js';
import type { SqliteDatabase } from '../store/database.js';
import { createRetriedCheck, markDeadLettersPurged } from '../store/deadLetters.js';
import { type Clock, isoNow } from '../time/clock.js';

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
  /** Events that wait behind it (directly or behind other waiting events), when known. */
  waiting?: number;
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
  clock: Clock,
): Promise<number> {
  const r = await jsm.streams.purge(DLQ_STREAM, { filter: `dlq.${consumer}` });
  if (db) markDeadLettersPurged(db, worker, isoNow(clock));
  return r.purged;
}

/** The messages to feed again, minus those already retried successfully (each is applied once). */
export function retryable(
  db: SqliteDatabase,
  worker: string,
  entries: readonly DeadLetterEntry[],
): RawEvent[] {
  const retried = createRetriedCheck(db);
  return entries
    .filter((e) => !retried(worker, e.seq))
    .map((e) => ({ seq: e.seq, subject: e.subject, data: e.data }));
}

/**
 * After a retry: applied or re-dead-lettered letters leave the DLQ stream (the latter come back under
 * a new id); one not tried, waiting behind an earlier letter, stays.
 */
export async function removeFromDlq(
  jsm: JetStreamManager,
  entries: readonly DeadLetterEntry[],
  outcomes: readonly OutOfOrderOutcome[],
): Promise<void> {
  const done = new Set(outcomes.filter((o) => o.applied || !o.waitsBehind).map((o) => o.seq));
  for (const e of entries) {
    if (done.has(e.seq)) await jsm.streams.deleteMessage(DLQ_STREAM, e.dlqSeq, false).catch(() => false);
  }
}
