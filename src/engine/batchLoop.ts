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

/** An apply that failed after it may have changed live actors: the batch must run again without it. */
export class ApplyFailure {
  constructor(
    readonly key: number | string,
    readonly reason: string,
  ) {}
}

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
 * One attempt at a batch. `apply` returns undefined when applied, a reason when the message is bad
 * before anything changed (decode, keys), or an ApplyFailure when live state may have changed.
 */
export function attemptBatch(
  messages: readonly RawEvent[],
  start: number,
  consumes: (subject: string) => boolean,
  poisoned: ReadonlyMap<number, string>,
  policy: BatchPolicy,
  apply: (msg: RawEvent) => string | ApplyFailure | undefined,
): BatchAttempt | ApplyFailure {
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
      if (outcome instanceof ApplyFailure) return outcome;
      if (outcome === undefined) {
        attempt.applied++;
        attempt.checkpoint = msg.seq;
        continue;
      }
      reason = outcome;
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
  attempt: (poisoned: ReadonlyMap<number, string>) => BatchAttempt | ApplyFailure,
  discard: () => void,
): BatchAttempt {
  const poisoned = new Map<number, string>();
  for (;;) {
    const outcome = attempt(poisoned);
    if (!(outcome instanceof ApplyFailure)) return outcome;
    discard();
    poisoned.set(outcome.key as number, outcome.reason);
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
  apply: (msg: RawEvent) => string | ApplyFailure | undefined,
  discard: () => void,
): OutOfOrderOutcome {
  const attempt = applyBatchWith(
    (poisoned) => attemptBatch([msg], msg.seq - 1, always, poisoned, deadLetterAll, apply),
    discard,
  );
  const bad = attempt.dead[0];
  return bad ? { seq: msg.seq, applied: false, reason: bad.reason } : { seq: msg.seq, applied: true };
}
