/**
 * The per-batch loop both engines share: skip what is at or below the checkpoint, skip subjects the
 * worker does not consume, apply the rest in stream order, and decide what a bad message does
 * (dead letter, stop, retry later). An apply that fails midway (a machine action threw) aborts the
 * attempt; `applyBatchWith` then discards the attempt's in-memory changes, marks that message bad
 * and runs the batch again, so a bad event never leaves half-applied state.
 */
import type { RawEvent } from '../define/projection.js';

export interface DeadLetter {
  readonly seq: number;
  readonly subject: string;
  readonly reason: string;
}

/** What a worker does with a bad message (decode, validation or apply failure). */
export type BadEventVerdict = 'dead-letter' | 'stop' | 'retry';

export interface BatchResult {
  applied: number;
  skipped: number;
  deadLetters: DeadLetter[];
  /** The checkpoint after the commit: every message up to it may be acked. */
  checkpoint: number;
  /**
   * Set when a bad message stopped the batch (`onError: 'stop'`, or a retry is due): it and what
   * follows were not applied; the checkpoint is just before it.
   */
  stoppedAt?: DeadLetter & { retry: boolean };
}

/**
 * What applying one message did. `rejected`: it was bad before anything changed (decode, keys), so
 * the policy decides its fate now. `failed`: it failed after live actors may have changed, so the
 * attempt is abandoned and the batch runs again without it.
 */
export type ApplyOutcome =
  | { readonly kind: 'applied' }
  | { readonly kind: 'rejected'; readonly reason: string }
  | ApplyFailed;

export interface ApplyFailed {
  readonly kind: 'failed';
  readonly seq: number;
  readonly reason: string;
}

/** Applies one message; called once per event, so the common outcome is the shared {@link APPLIED}. */
export type ApplyMessage = (msg: RawEvent) => ApplyOutcome;

/** The outcome of every applied message: one frozen object, nothing allocated per event. */
export const APPLIED: ApplyOutcome = Object.freeze({ kind: 'applied' });

export const rejected = (reason: string): ApplyOutcome => ({ kind: 'rejected', reason });

export const failed = (seq: number, reason: string): ApplyFailed => ({ kind: 'failed', seq, reason });

export interface BatchPolicy {
  /** @default always dead-letter */
  verdict?: (letter: DeadLetter) => BadEventVerdict;
  /** A reason when the operator said to skip this message (`prosa skip`). */
  skipped?: (seq: number) => string | undefined;
}

export interface BatchAttempt {
  applied: number;
  skipped: number;
  dead: DeadLetter[];
  /** Bodies of the dead letters, by sequence. */
  raw: Map<number, RawEvent>;
  checkpoint: number;
  stoppedAt?: DeadLetter & { retry: boolean };
}

/**
 * One attempt at a batch: the one place an {@link ApplyOutcome} becomes a verdict. A `failed`
 * outcome ends the attempt and is returned as is.
 */
export function attemptBatch(
  messages: readonly RawEvent[],
  start: number,
  consumes: (subject: string) => boolean,
  poisoned: ReadonlyMap<number, string>,
  policy: BatchPolicy,
  apply: ApplyMessage,
): BatchAttempt | ApplyFailed {
  const attempt: BatchAttempt = { applied: 0, skipped: 0, dead: [], raw: new Map(), checkpoint: start };
  for (const msg of messages) {
    if (msg.seq <= attempt.checkpoint) {
      attempt.skipped++;
      continue;
    }
    if (!consumes(msg.subject)) {
      attempt.checkpoint = msg.seq;
      attempt.skipped++;
      continue;
    }
    const skip = policy.skipped?.(msg.seq);
    let reason = skip ?? poisoned.get(msg.seq);
    if (reason === undefined) {
      const outcome = apply(msg);
      if (outcome.kind === 'failed') return outcome;
      if (outcome.kind === 'applied') {
        attempt.applied++;
        attempt.checkpoint = msg.seq;
        continue;
      }
      reason = outcome.reason;
    }
    const letter: DeadLetter = { seq: msg.seq, subject: msg.subject, reason };
    const verdict = skip !== undefined ? 'dead-letter' : (policy.verdict?.(letter) ?? 'dead-letter');
    if (verdict !== 'dead-letter') {
      attempt.stoppedAt = { ...letter, retry: verdict === 'retry' };
      break;
    }
    attempt.dead.push(letter);
    attempt.raw.set(msg.seq, msg);
    attempt.checkpoint = msg.seq;
  }
  return attempt;
}

/** Runs attempts until one completes, marking each failed message bad and discarding in between. */
export function applyBatchWith(
  attempt: (poisoned: ReadonlyMap<number, string>) => BatchAttempt | ApplyFailed,
  discard: () => void,
): BatchAttempt {
  const poisoned = new Map<number, string>();
  for (;;) {
    const outcome = attempt(poisoned);
    if (!('kind' in outcome)) return outcome; // a completed attempt, not a failed apply
    discard();
    poisoned.set(outcome.seq, outcome.reason);
  }
}

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** What feeding one message out of order did. */
export type OutOfOrderOutcome =
  | { seq: number; applied: true }
  | { seq: number; applied: false; reason: string };

const always = () => true;
const deadLetterAll: BatchPolicy = { verdict: () => 'dead-letter' };

/** Applies one message regardless of the checkpoint (a dead letter fed again); the caller commits. */
export function attemptOutOfOrder(
  msg: RawEvent,
  apply: ApplyMessage,
  discard: () => void,
): OutOfOrderOutcome {
  const attempt = applyBatchWith(
    (poisoned) => attemptBatch([msg], msg.seq - 1, always, poisoned, deadLetterAll, apply),
    discard,
  );
  const bad = attempt.dead[0];
  return bad ? { seq: msg.seq, applied: false, reason: bad.reason } : { seq: msg.seq, applied: true };
}
