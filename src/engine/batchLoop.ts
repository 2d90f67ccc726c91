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
  /** Messages that now wait behind a dead letter of one of their entities (./parking.ts). */
  waited: number;
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
 * attempt is abandoned and the batch runs again without it. `waiting`: one of its entities waits
 * behind a dead letter, so it was recorded to wait too. `park` names the entities of a bad message
 * (when known), which wait behind its dead letter.
 */
export type ApplyOutcome =
  | { readonly kind: 'applied' }
  | { readonly kind: 'waiting' }
  | { readonly kind: 'rejected'; readonly reason: string; readonly park?: readonly string[] }
  | ApplyFailed;

export interface ApplyFailed {
  readonly kind: 'failed';
  readonly seq: number;
  readonly reason: string;
  readonly park?: readonly string[] | undefined;
}

/** Why a message is bad in the next attempt, and the entities its dead letter parks. */
export interface Poison {
  readonly reason: string;
  readonly park?: readonly string[] | undefined;
}

/** Applies one message; called once per event, so the common outcome is the shared {@link APPLIED}. */
export type ApplyMessage = (msg: RawEvent) => ApplyOutcome;

/** The outcome of every applied message: one frozen object, nothing allocated per event. */
export const APPLIED: ApplyOutcome = Object.freeze({ kind: 'applied' });

/** The outcome of every message that now waits. */
export const WAITING: ApplyOutcome = Object.freeze({ kind: 'waiting' });

export const rejected = (reason: string, park?: readonly string[]): ApplyOutcome =>
  park ? { kind: 'rejected', reason, park } : { kind: 'rejected', reason };

export const failed = (seq: number, reason: string, park?: readonly string[]): ApplyFailed => ({
  kind: 'failed',
  seq,
  reason,
  park,
});

export interface BatchPolicy {
  /** @default always dead-letter */
  verdict?: (letter: DeadLetter) => BadEventVerdict;
  /** A reason when the operator said to skip this message (`prosa skip`). */
  skipped?: (seq: number) => string | undefined;
}

export interface BatchAttempt {
  applied: number;
  skipped: number;
  waited: number;
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
  poisoned: ReadonlyMap<number, Poison>,
  policy: BatchPolicy,
  apply: ApplyMessage,
  /** Parks the entities of a dead letter (./parking.ts). */
  park?: (seq: number, slots: readonly string[]) => void,
  /** The entities a message an operator skipped parks: it is a dead letter like any other. */
  slotsOf?: (msg: RawEvent) => readonly string[] | undefined,
): BatchAttempt | ApplyFailed {
  const attempt: BatchAttempt = {
    applied: 0,
    skipped: 0,
    waited: 0,
    dead: [],
    raw: new Map(),
    checkpoint: start,
  };
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
    const poison = skip === undefined ? poisoned.get(msg.seq) : undefined;
    let reason = skip ?? poison?.reason;
    let parks = skip !== undefined ? slotsOf?.(msg) : poison?.park;
    if (reason === undefined) {
      const outcome = apply(msg);
      if (outcome.kind === 'failed') return outcome;
      if (outcome.kind === 'applied' || outcome.kind === 'waiting') {
        if (outcome.kind === 'applied') attempt.applied++;
        else attempt.waited++;
        attempt.checkpoint = msg.seq;
        continue;
      }
      reason = outcome.reason;
      parks = outcome.park;
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
    if (parks && park) park(msg.seq, parks);
  }
  return attempt;
}

/** Runs attempts until one completes, marking each failed message bad and discarding in between. */
export function applyBatchWith<A extends object>(
  attempt: (poisoned: ReadonlyMap<number, Poison>) => A | ApplyFailed,
  discard: () => void,
): A {
  const poisoned = new Map<number, Poison>();
  for (;;) {
    const outcome = attempt(poisoned);
    if (!isFailed(outcome)) return outcome; // a completed attempt, not a failed apply
    discard();
    poisoned.set(outcome.seq, { reason: outcome.reason, park: outcome.park });
  }
}

const isFailed = (o: object): o is ApplyFailed => (o as { kind?: unknown }).kind === 'failed';

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
