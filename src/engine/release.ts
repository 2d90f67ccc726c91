/**
 * Feeding a dead letter again (a retry after a fix) or giving up on it (a skip), and releasing
 * what waited behind it: when it is resolved, the waiting events whose blockers are all resolved
 * apply in stream order, and each one applied may release more. A released event that fails
 * becomes a dead letter itself and keeps its entities waiting behind it. Both engines run it under
 * `applyBatchWith`, so the retried letter and everything it released commit together or not at all.
 */
import type { RawEvent } from '../define/projection.js';
import {
  type ApplyFailed,
  type ApplyMessage,
  applyBatchWith,
  type DeadLetter,
  type Poison,
} from './batchLoop.js';
import type { ParkingLot } from './parking.js';

/** What the events released behind a resolved dead letter did. */
export interface Released {
  /** Waiting events applied. */
  applied: number;
  /** Waiting events that failed when released: dead letters now. */
  deadLettered: number;
}

/** What feeding one message out of order did, and what that released. */
export type OutOfOrderOutcome =
  | { seq: number; applied: true; released?: Released }
  /** `waitsBehind`: not tried, its entities wait behind these earlier dead letters (resolve them first). */
  | { seq: number; applied: false; reason: string; waitsBehind?: readonly number[] };

/** What both engines do with their dead letters, and what waits behind them. */
export interface DeadLetterHandling {
  /**
   * Applies messages regardless of the checkpoint (which does not move): dead letters fed again
   * after a fix. Each message commits alone, with `within(outcome)` run in its transaction.
   */
  applyOutOfOrder(
    messages: readonly RawEvent[],
    within: (outcome: OutOfOrderOutcome) => void,
  ): OutOfOrderOutcome[];
  /**
   * Gives up on the dead letter `seq`: the events that waited behind it apply in stream order, in
   * one transaction with `within` (which records the skip).
   */
  skipDeadLetter(seq: number, within: () => void): Released;
  /** How many events wait behind a dead letter. */
  readonly waiting: number;
}

export interface ReleaseAttempt {
  /** The retried dead letter's outcome (a retry only). */
  outcome?: OutOfOrderOutcome;
  released: Released;
  /** Released events that failed, with their bodies. */
  dead: DeadLetter[];
  raw: Map<number, RawEvent>;
}

/**
 * A dead letter fed again (with the entity slots the code that runs now reads in it, undefined when
 * it cannot), or the seq of one given up on.
 */
export type ReleaseStart = { retry: RawEvent; slots: () => readonly string[] | undefined } | { skip: number };

/**
 * One attempt at a retry or a skip and what it releases; `apply` must not hold the message back
 * (its blockers are resolved). A `failed` outcome ends the attempt and is returned as is.
 */
export function attemptRelease(
  lot: ParkingLot,
  start: ReleaseStart,
  apply: ApplyMessage,
  poisoned: ReadonlyMap<number, Poison>,
): ReleaseAttempt | ApplyFailed {
  const attempt: ReleaseAttempt = { released: { applied: 0, deadLettered: 0 }, dead: [], raw: new Map() };
  let ready: number[];
  if ('retry' in start) {
    const { seq } = start.retry;
    // Its entities, known now, may wait behind an earlier dead letter: applied now, it would pass
    // their events that wait.
    const behind = lot.deadLettersBefore(seq, start.slots);
    if (behind.length > 0) {
      const list = behind.join(', ');
      attempt.outcome = {
        seq,
        applied: false,
        reason: `its entities wait behind dead letter${behind.length > 1 ? 's' : ''} ${list}: retry or skip ${behind.length > 1 ? 'those' : 'that one'} first`,
        waitsBehind: behind,
      };
      return attempt;
    }
    const poison = poisoned.get(seq);
    const outcome = poison ? undefined : apply(start.retry);
    if (outcome?.kind === 'failed') return outcome;
    if (outcome?.kind !== 'applied') {
      const reason = poison?.reason ?? (outcome?.kind === 'rejected' ? outcome.reason : 'not applied');
      attempt.outcome = { seq, applied: false, reason };
      return attempt;
    }
    attempt.outcome = { seq, applied: true, released: attempt.released };
    ready = lot.resolve(seq);
  } else ready = lot.resolve(start.skip);

  while (ready.length > 0) {
    const seq = ready.shift() as number;
    const msg = lot.messageOf(seq);
    if (!msg) continue;
    const poison = poisoned.get(seq);
    const outcome = poison ? undefined : apply(msg);
    if (outcome?.kind === 'failed') return outcome;
    if (outcome?.kind === 'applied') {
      attempt.released.applied++;
      ready = merge(ready, lot.resolve(seq));
      continue;
    }
    const reason = poison?.reason ?? (outcome?.kind === 'rejected' ? outcome.reason : 'not applied');
    lot.deadLetter(seq, []);
    attempt.released.deadLettered++;
    attempt.dead.push({ seq, subject: msg.subject, reason });
    attempt.raw.set(seq, msg);
  }
  return attempt;
}

/** Two ascending lists as one. */
function merge(a: readonly number[], b: readonly number[]): number[] {
  if (b.length === 0) return a as number[];
  return [...a, ...b].sort((x, y) => x - y);
}

/** What an engine lends a retry or a skip. */
export interface ReleaseScope {
  readonly lot: ParkingLot;
  /** Applies a message whose blockers are resolved. */
  readonly apply: ApplyMessage;
  /** The slots the code that runs now reads in a message, undefined when it cannot read them. */
  slotsOf(msg: RawEvent): readonly string[] | undefined;
  /** Forgets what an attempt changed in memory. */
  discard(): void;
  /** Commits what the attempt changed, with `within` in the same transaction. */
  commit(dead: DeadLetter[], raw: Map<number, RawEvent>, within: () => void): void;
}

/** `DeadLetterHandling.applyOutOfOrder` of an engine: each message retried and committed alone. */
export function retryOutOfOrder(
  scope: ReleaseScope,
  messages: readonly RawEvent[],
  within: (outcome: OutOfOrderOutcome) => void,
): OutOfOrderOutcome[] {
  return messages.map(
    (msg) =>
      releaseIn(scope, { retry: msg, slots: () => scope.slotsOf(msg) }, within).outcome as OutOfOrderOutcome,
  );
}

/** `DeadLetterHandling.skipDeadLetter` of an engine. */
export function skipIn(scope: ReleaseScope, seq: number, within: () => void): Released {
  return releaseIn(scope, { skip: seq }, within).released;
}

/** A retry or a skip and what it releases, committed in one transaction with `within`. */
function releaseIn(
  scope: ReleaseScope,
  start: ReleaseStart,
  within: (outcome: OutOfOrderOutcome) => void,
): ReleaseAttempt {
  const attempt = applyBatchWith(
    (poisoned) => attemptRelease(scope.lot, start, scope.apply, poisoned),
    () => scope.discard(),
  );
  const outcome = attempt.outcome ?? { seq: 0, applied: true };
  scope.commit(attempt.dead, attempt.raw, () => within(outcome));
  return attempt;
}
