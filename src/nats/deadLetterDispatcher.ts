/**
 * Publishes the dead letters a worker wrote in its batch transactions to `dlq.<consumer>` in stream
 * DLQ, after the commit: the original body, with the original subject, stream, sequence and the
 * reason in headers, and `Nats-Msg-Id = <stream>:<seq>:<consumer>` so a re-publish after a crash is
 * dropped by the server. Where the letters are kept is the caller's (src/store/deadLetters.ts).
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import type { Logger } from '../logger.js';
import { type Clock, isoNow } from '../time/clock.js';
import { DLQ_HEADERS, deadLetterMsgId } from './dlq.js';
import { createOutboxDispatcher, type OutboxDispatcher } from './publishAfterCommit.js';

/** A dead letter not published yet, as the store keeps it. */
export interface PendingDeadLetter {
  stream: string;
  stream_seq: number;
  subject: string;
  body: Uint8Array;
  reason: string;
  attempts: number;
}

/** Where the dead letters to publish come from, and where they are marked published. */
export interface DeadLetterSource<R extends PendingDeadLetter> {
  pending(): R[];
  /** `at`: RFC 3339. */
  markPublished(rows: readonly R[], at: string): void;
}

export function createDeadLetterDispatcher<R extends PendingDeadLetter>(o: {
  js: JetStreamClient;
  consumer: string;
  log: Logger;
  /** When a letter was published, as recorded. */
  clock: Clock;
  letters: DeadLetterSource<R>;
}): OutboxDispatcher {
  const { js, consumer, log, letters } = o;
  return createOutboxDispatcher<R>(
    {
      pending: () => letters.pending(),
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
        letters.markPublished(rows, isoNow(o.clock));
        for (const r of rows)
          log.warn({ seq: r.stream_seq, subject: r.subject, reason: r.reason }, 'event dead-lettered');
      },
    },
    log,
    'dead letters',
  );
}
