/**
 * A worker's error policy: a bad event is retried `retries.attempts` times, each after twice the
 * previous wait (from `retries.backoff`), then `onError` applies; a message the operator said to
 * skip (`prosa skip`) is dead-lettered whatever the policy. Attempts live in memory: a restarted
 * process tries again from the first.
 */
import type { WorkerOptions } from '../config/config.js';
import type { BadEventVerdict, BatchPolicy, DeadLetter } from '../engine/batchLoop.js';
import type { SqliteDatabase } from '../store/database.js';
import { readSkips } from '../store/skips.js';

export interface ErrorPolicyOptions {
  db: SqliteDatabase;
  worker: string;
  retries: WorkerOptions['retries'];
  onError: WorkerOptions['onError'];
}

export interface RetryDelay {
  /** The attempt about to be made, from 1. */
  attempt: number;
  delayMs: number;
}

export interface ErrorPolicy extends Required<BatchPolicy> {
  /** Counts an attempt at the message a batch stopped at for a retry, and says when to make the next. */
  retryDelay(seq: number): RetryDelay;
  /** Reads the operator's skips again (they change while the worker is stopped at a bad event). */
  reload(): void;
  /** Forgets the attempts: a resumed worker tries each bad event afresh. */
  reset(): void;
}

export function createErrorPolicy(o: ErrorPolicyOptions): ErrorPolicy {
  const attempts = new Map<number, number>();
  let skips: ReadonlyMap<number, string> = new Map();
  return {
    verdict(letter: DeadLetter): BadEventVerdict {
      const tried = attempts.get(letter.seq) ?? 0;
      if (tried < o.retries.attempts) return 'retry';
      attempts.delete(letter.seq);
      return o.onError;
    },
    skipped: (seq) => skips.get(seq),
    retryDelay(seq) {
      const attempt = (attempts.get(seq) ?? 0) + 1;
      attempts.set(seq, attempt);
      return { attempt, delayMs: o.retries.backoff * 2 ** (attempt - 1) };
    },
    reload() {
      skips = readSkips(o.db, o.worker);
    },
    reset() {
      attempts.clear();
    },
  };
}
