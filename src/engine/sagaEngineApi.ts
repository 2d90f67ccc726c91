/**
 * What the saga engine (./sagaEngine.ts) is built with and what it offers: its options and its
 * interface, apart from the implementation.
 */
import type { RawEvent } from '../define/projection.js';
import type { Clock } from '../time/clock.js';
import type { BatchPolicy, BatchResult } from './batchLoop.js';
import type { DeadLetterHandling } from './release.js';

export interface SagaEngineOptions {
  /** @default 10_000 */
  maxActors?: number;
  /** @default 'dead-letter' */
  onError?: 'dead-letter' | 'stop';
  /** Decides what a bad message does (overrides `onError`), and which the operator skipped. */
  policy?: BatchPolicy;
  stream?: string;
  /** Where timer due times and command timestamps come from. @default systemClock */
  clock?: Clock;
  /** Timeout durations in ms by name, over the definition's defaults. */
  timeouts?: Readonly<Record<string, number>>;
  /** Whether an instance's later events wait behind its dead letter. @default 'ordered' */
  deadLetters?: 'ordered' | 'unordered';
  /**
   * The outbox position commands written between events must exceed (what the saga's lease last
   * reported published, which outlives pruned rows). @default none
   */
  positionFloor?: () => number;
}

export interface SagaEngine extends DeadLetterHandling {
  readonly name: string;
  readonly checkpoint: number;
  readonly liveActors: number;
  applyBatch(messages: readonly RawEvent[]): BatchResult;
  /**
   * Fires every timer due at the clock's now, in due order, in one transaction. Returns how many
   * fired. With `only`, fires just the due timers it names, each with its commands at the outbox
   * position it gives (where the process that fired it first put them); the others stay pending.
   */
  fireDueTimers(only?: ReadonlyMap<string, number>): number;
  /** The ids of the timers due at the clock's now (a bounded page, in due order). */
  dueTimers(): string[];
  /** The outbox position the next firing's commands get, above every row's and the checkpoint's. */
  nextLocalPosition(): number;
  /** Epoch ms of the next pending timer, if any. */
  nextTimeoutAt(): number | undefined;
  activeInstances(): number;
  passivateAll(): void;
  reload(): void;
  close(): void;
}
