/**
 * Publishes rows that a batch transaction wrote (commands, dead letters) after the commit, in
 * order, and marks each done only when the server acked it. Each row's publish carries a
 * deterministic `Nats-Msg-Id`, so a row re-published after a crash between publish and mark-done
 * is dropped by the stream's duplicate window. While NATS is away it retries with backoff; rows are
 * never lost.
 */
import type { Logger } from '../logger.js';

export interface OutboxDispatcher {
  /** Publishes whatever is pending; concurrent calls share one run. */
  kick(): Promise<void>;
  /** Stops retrying; a run under way ends after its current publish. */
  close(): void;
}

export interface OutboxSource<R> {
  /** The next pending rows, oldest first (a bounded page). */
  pending(): R[];
  publish(row: R): Promise<void>;
  /** Marks rows the server acked as done, in one transaction (one per page, not one per row). */
  markDone(rows: readonly R[]): void;
}

/** Rows the server acked whose mark-done write failed (a full disk): they are published again, as duplicates. */
class NotMarkedDone extends Error {}

export function createOutboxDispatcher<R>(
  source: OutboxSource<R>,
  log: Logger,
  what: string,
): OutboxDispatcher {
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  function markDone(rows: readonly R[]): void {
    try {
      source.markDone(rows);
    } catch (cause) {
      throw new NotMarkedDone(cause instanceof Error ? cause.message : String(cause), { cause });
    }
  }

  async function drainPending(): Promise<void> {
    for (;;) {
      const rows = source.pending();
      if (rows.length === 0 || closed) return;
      // The page is sent at once (one connection keeps the order) and the rows acked are marked done
      // together; a failure marks those acked before it and leaves the rest pending (any that had
      // landed are dropped as duplicates later).
      const acks = rows.map((row) => source.publish(row));
      for (const p of acks) p.catch(() => {});
      let acked = 0;
      try {
        for (; acked < rows.length; acked++) await acks[acked];
      } finally {
        if (acked > 0) markDone(rows.slice(0, acked));
      }
    }
  }

  return {
    kick() {
      if (closed) return Promise.resolve();
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        let delay = 250;
        do {
          again = false;
          try {
            await drainPending();
            delay = 250;
          } catch (e) {
            if (closed) return;
            if (e instanceof NotMarkedDone)
              log.error(
                { err: e.cause, retryInMs: delay },
                `${what} published, but marking them done failed: ${e.message}; publishing them again (the stream drops the duplicates)`,
              );
            else log.warn({ err: e, retryInMs: delay }, `${what} not published yet; retrying`);
            await new Promise((r) => setTimeout(r, delay));
            delay = Math.min(delay * 2, 10_000);
            again = true;
          }
        } while (again && !closed);
      })().finally(() => {
        running = undefined;
      });
      return running;
    },
    close() {
      closed = true;
    },
  };
}
