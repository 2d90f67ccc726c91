/**
 * Publishes the dead letters a worker wrote in its batch transactions (prosa_dead_letters) to
 * `dlq.<consumer>` in stream DLQ, after the commit: the original body, with the original subject,
 * stream, sequence and the reason in headers, and `Nats-Msg-Id = <stream>:<seq>:<consumer>` so a
 * re-publish after a crash is dropped by the server. A row is marked published only on the ack.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import type { Logger } from './logger.js';
import type { SqliteDatabase } from './sqliteStore.js';

export const DLQ_HEADERS = {
  subject: 'Prosa-Original-Subject',
  stream: 'Prosa-Original-Stream',
  seq: 'Prosa-Original-Seq',
  reason: 'Prosa-Reason',
  consumer: 'Prosa-Consumer',
} as const;

export interface DeadLetterDispatcher {
  /** Publishes whatever is pending; concurrent calls share one run. */
  kick(): Promise<void>;
  /** Rows written but not yet published. */
  pending(): number;
}

interface Row {
  stream: string;
  stream_seq: number;
  subject: string;
  body: Uint8Array;
  reason: string;
}

export function createDeadLetterDispatcher(options: {
  db: SqliteDatabase;
  js: JetStreamClient;
  worker: string;
  consumer: string;
  log: Logger;
}): DeadLetterDispatcher {
  const { db, js, worker, consumer, log } = options;
  const select = db.prepare(
    'SELECT stream, stream_seq, subject, body, reason FROM prosa_dead_letters WHERE worker = ? AND published_at IS NULL ORDER BY stream_seq LIMIT 500',
  );
  const count = db.prepare('SELECT count(*) FROM prosa_dead_letters WHERE worker = ? AND published_at IS NULL').pluck();
  const mark = db.prepare('UPDATE prosa_dead_letters SET published_at = ? WHERE worker = ? AND stream_seq = ?');
  let running: Promise<void> | undefined;
  let again = false;

  async function publishPending(): Promise<void> {
    for (;;) {
      const rows = select.all(worker) as Row[];
      if (rows.length === 0) return;
      for (const r of rows) {
        const h = headers();
        h.set(DLQ_HEADERS.subject, r.subject);
        h.set(DLQ_HEADERS.stream, r.stream);
        h.set(DLQ_HEADERS.seq, String(r.stream_seq));
        h.set(DLQ_HEADERS.reason, r.reason.replace(/[\r\n]+/g, ' ').slice(0, 4_000));
        h.set(DLQ_HEADERS.consumer, consumer);
        await js.publish(`dlq.${consumer}`, r.body, { msgID: `${r.stream}:${r.stream_seq}:${consumer}`, headers: h });
        mark.run(new Date().toISOString(), worker, r.stream_seq);
        log.warn({ worker, seq: r.stream_seq, subject: r.subject, reason: r.reason }, 'event dead-lettered');
      }
    }
  }

  return {
    kick() {
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        let delay = 250;
        do {
          again = false;
          try {
            await publishPending();
            delay = 250;
          } catch (e) {
            // NATS away or DLQ missing: keep the rows and try again; they are not lost.
            log.warn({ err: e, worker, retryInMs: delay }, 'dead letters not published yet; retrying');
            await new Promise((r) => setTimeout(r, delay));
            delay = Math.min(delay * 2, 10_000);
            again = true;
          }
        } while (again);
      })().finally(() => {
        running = undefined;
      });
      return running;
    },
    pending: () => count.get(worker) as number,
  };
}
