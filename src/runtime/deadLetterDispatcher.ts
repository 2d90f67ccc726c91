/**
 * Publishes the dead letters a worker wrote in its batch transactions (prosa_dead_letters) to
 * `dlq.<consumer>` in stream DLQ, after the commit: the original body, with the original subject,
 * stream, sequence and the reason in headers, and `Nats-Msg-Id = <stream>:<seq>:<consumer>` so a
 * re-publish after a crash is dropped by the server (DESIGN 3.4).
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import type { Logger } from '../logger.js';
import type { SqliteDatabase } from '../store/database.js';
import { createOutboxDispatcher, type OutboxDispatcher } from './publishAfterCommit.js';

export const DLQ_HEADERS = {
  subject: 'Prosa-Original-Subject',
  stream: 'Prosa-Original-Stream',
  seq: 'Prosa-Original-Seq',
  reason: 'Prosa-Reason',
  consumer: 'Prosa-Consumer',
} as const;

interface DeadLetterRow {
  stream: string;
  stream_seq: number;
  subject: string;
  body: Uint8Array;
  reason: string;
  attempts: number;
}

/** The DLQ message id of a dead letter: a retry that fails again is a new message. */
export const deadLetterMsgId = (stream: string, seq: number, consumer: string, attempts: number): string =>
  attempts === 0 ? `${stream}:${seq}:${consumer}` : `${stream}:${seq}:${consumer}:retry-${attempts}`;

export function createDeadLetterDispatcher(o: {
  db: SqliteDatabase;
  js: JetStreamClient;
  worker: string;
  consumer: string;
  log: Logger;
}): OutboxDispatcher {
  const { db, js, worker, consumer, log } = o;
  const select = db.prepare(
    'SELECT stream, stream_seq, subject, body, reason, attempts FROM prosa_dead_letters WHERE worker = ? AND published_at IS NULL AND resolution IS NULL ORDER BY stream_seq LIMIT 500',
  );
  const mark = db.prepare(
    'UPDATE prosa_dead_letters SET published_at = ? WHERE worker = ? AND stream_seq = ?',
  );
  const markAll = db.transaction((rows: readonly DeadLetterRow[], at: string) => {
    for (const r of rows) mark.run(at, worker, r.stream_seq);
  });
  return createOutboxDispatcher<DeadLetterRow>(
    {
      pending: () => select.all(worker) as DeadLetterRow[],
      async publish(r) {
        const h = headers();
        h.set(DLQ_HEADERS.subject, r.subject);
        h.set(DLQ_HEADERS.stream, r.stream);
        h.set(DLQ_HEADERS.seq, String(r.stream_seq));
        h.set(DLQ_HEADERS.reason, r.reason.replace(/[\r\n]+/g, ' ').slice(0, 4_000));
        h.set(DLQ_HEADERS.consumer, consumer);
        await js.publish(`dlq.${consumer}`, r.body, {
          msgID: deadLetterMsgId(r.stream, r.stream_seq, consumer, r.attempts),
          headers: h,
        });
      },
      markDone(rows) {
        markAll(rows, new Date().toISOString());
        for (const r of rows)
          log.warn({ seq: r.stream_seq, subject: r.subject, reason: r.reason }, 'event dead-lettered');
      },
    },
    log,
    'dead letters',
  );
}
