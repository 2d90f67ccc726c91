/**
 * The projection engine: decode -> keys -> per-key actors -> rows, one SQLite transaction per batch
 * holding the changed rows, the changed actor snapshots, the dead letters and the checkpoint.
 *
 * It knows nothing of NATS: `applyBatch` takes messages in stream order and returns what to ack.
 * The NATS consumer (src/nats/consumer.ts) and the test kit's in-memory stream both drive it, so the
 * code that properties test is the code `prosa run` runs.
 *
 * Exactly-once: a message at or below the checkpoint is skipped; everything a batch changes commits
 * with the checkpoint or not at all. If an apply fails (a machine action throws), every actor the
 * batch touched is dropped (they come back from their last committed snapshots), the bad message is
 * marked, and the batch runs again without it; so a bad event never leaves half-applied state.
 */
import type { AnyMachineSnapshot } from 'xstate';
import { defaults } from '../defaults.js';
import type { EntityDefinition, ProjectionDefinition, ProsaEvent, RawEvent } from '../define/projection.js';
import { subjectMatcher } from '../define/subjects.js';
import { createCheckpointWriter, readCheckpoint } from '../store/checkpoints.js';
import { createDeadLetterWriter } from '../store/deadLetters.js';
import { migrate } from '../store/migrations.js';
import type { SqliteDatabase } from '../store/sqlite.js';
import { type Clock, isoNow, systemClock } from '../time/clock.js';
import { type ActorHost, createActorHost, type HostedActor } from './actorHost.js';
import {
  APPLIED,
  type ApplyMessage,
  type ApplyOutcome,
  applyBatchWith,
  attemptBatch,
  type BatchPolicy,
  type BatchResult,
  type DeadLetter,
  errorText,
  failed,
  rejected,
  WAITING,
} from './batchLoop.js';
import { createEntityStates, type EntityStates, type PendingWrite } from './entityState.js';
import { ParkingLot, slotsIfReadable, slotsOfKeys } from './parking.js';
import {
  type DeadLetterHandling,
  type OutOfOrderOutcome,
  type Released,
  type ReleaseScope,
  retryOutOfOrder,
  skipIn,
} from './release.js';

export type { BatchResult, DeadLetter } from './batchLoop.js';
export type { OutOfOrderOutcome, Released } from './release.js';

export interface ProjectionEngineOptions {
  /** @default 10_000 */
  maxActors?: number;
  /** @default 'dead-letter' */
  onError?: 'dead-letter' | 'stop';
  /** Decides what a bad message does (overrides `onError`), and which the operator skipped. */
  policy?: BatchPolicy;
  /** The stream the messages come from (recorded with dead letters). */
  stream?: string;
  /** Where bookkeeping times come from. @default systemClock */
  clock?: Clock;
  /** Whether an entity's later events wait behind its dead letter. @default 'ordered' */
  deadLetters?: 'ordered' | 'unordered';
}

export interface ProjectionEngine extends DeadLetterHandling {
  readonly name: string;
  /** The last applied stream sequence (0: none yet). */
  readonly checkpoint: number;
  readonly liveActors: number;
  /** Applies and commits a batch of messages in stream order. */
  applyBatch(messages: readonly RawEvent[]): BatchResult;
  /** Passivates every live actor (they come back from their snapshots). */
  passivateAll(): void;
  /** Re-reads the checkpoint from SQLite and forgets live actors, e.g. after a failed commit. */
  reload(): void;
  close(): void;
}

class ProjectionEngineImpl implements ProjectionEngine {
  readonly name: string;
  checkpoint = 0;
  private readonly host: ActorHost;
  private readonly states: EntityStates;
  private readonly consumes: (subject: string) => boolean;
  private readonly policy: BatchPolicy;
  private readonly stream: string;
  private readonly now: () => number;
  private readonly lot: ParkingLot;
  private readonly commit: (
    dirty: Iterable<HostedActor>,
    pending: Iterable<PendingWrite>,
    dead: DeadLetter[],
    raw: Map<number, RawEvent>,
    checkpoint: number,
    within?: () => void,
  ) => void;
  /** Writes of actors passivated during the current batch, not yet committed. */
  private pending = new Map<string, PendingWrite>();

  constructor(
    private readonly definition: ProjectionDefinition<ProsaEvent, string>,
    private readonly db: SqliteDatabase,
    options: ProjectionEngineOptions,
  ) {
    this.name = definition.name;
    const onError = options.onError ?? defaults.worker.onError;
    this.policy = options.policy ?? { verdict: () => onError };
    this.stream = options.stream ?? definition.source.stream;
    const clock = options.clock ?? systemClock;
    this.now = () => clock.now();
    this.consumes = subjectMatcher(definition.source.subjects);
    migrate(db, this.name, definition.schema.migrations, isoNow(clock));
    const ordered = (options.deadLetters ?? defaults.worker.deadLetters) === 'ordered';
    this.lot = new ParkingLot(ordered, db, this.name);

    this.states = createEntityStates({
      db,
      worker: this.name,
      projection: this.name,
      entities: definition.entities,
    });
    const saveCheckpoint = createCheckpointWriter(db);
    const saveDeadLetter = createDeadLetterWriter(db);

    const machines: Record<string, EntityDefinition['machine']> = {};
    for (const [kind, entity] of Object.entries(definition.entities)) machines[kind] = entity.machine;

    this.host = createActorHost({
      machines,
      maxActors: options.maxActors ?? defaults.worker.maxActors,
      load: (kind, id, slot) => {
        // Passivated earlier in this batch: its uncommitted state comes back into the live actor. The
        // write stays pending (an event the actor then ignores leaves it clean, not committed).
        const pending = this.pending.get(slot);
        return pending ? this.states.loadPending(pending) : this.states.load(kind, id, slot);
      },
      onPassivate: (hosted) => {
        if (this.dirty.has(hosted.slot)) {
          this.dirty.delete(hosted.slot);
          this.pending.set(hosted.slot, this.states.capture(hosted));
        }
      },
    });

    const version = definition.version ?? 1;
    this.commit = db.transaction((dirty, pending, dead, raw, checkpoint, within) => {
      within?.();
      for (const write of pending) this.states.writePending(write);
      for (const hosted of dirty) this.states.writeLive(hosted);
      const at = new Date(this.now()).toISOString();
      for (const d of dead) {
        const body = raw.get(d.seq)?.data ?? new Uint8Array();
        saveDeadLetter(this.name, this.stream, d.seq, d.subject, body, d.reason, at);
      }
      this.lot.flush(at);
      saveCheckpoint(this.name, checkpoint, version, at);
    });
    this.checkpoint = readCheckpoint(db, this.name)?.seq ?? 0;
  }

  /** Actors changed by the current batch, by slot. */
  private dirty = new Map<string, HostedActor>();

  get liveActors(): number {
    return this.host.size;
  }

  get waiting(): number {
    return this.lot.waitingCount;
  }

  private readonly park = (seq: number, slots: readonly string[]) => this.lot.deadLetter(seq, slots);
  private readonly parkableMessage = (msg: RawEvent) => this.lot.slots(() => this.slotsOfMessage(msg));

  applyBatch(messages: readonly RawEvent[]): BatchResult {
    const attempt = applyBatchWith(
      (poisoned) =>
        attemptBatch(
          messages,
          this.checkpoint,
          this.consumes,
          poisoned,
          this.policy,
          this.applyOne,
          this.park,
          this.parkableMessage,
        ),
      () => this.discardBatch(),
    );
    if (
      attempt.checkpoint !== this.checkpoint ||
      this.dirty.size > 0 ||
      this.pending.size > 0 ||
      this.lot.changed
    )
      this.commitWork(attempt.dead, attempt.raw, attempt.checkpoint);
    this.settle();
    this.checkpoint = attempt.checkpoint;
    const result: BatchResult = {
      applied: attempt.applied,
      skipped: attempt.skipped,
      waited: attempt.waited,
      deadLetters: attempt.dead,
      checkpoint: attempt.checkpoint,
    };
    if (attempt.stoppedAt) result.stoppedAt = attempt.stoppedAt;
    return result;
  }

  private discardBatch(): void {
    for (const slot of this.dirty.keys()) this.host.drop(slot);
    for (const slot of this.pending.keys()) this.host.drop(slot);
    this.dirty.clear();
    this.pending.clear();
    this.lot.discard();
  }

  /** Applies a message in stream order: it waits when one of its entities waits. */
  private readonly applyOne: ApplyMessage = (msg) => this.applyMessage(msg, true);
  /** Applies a message whose blockers are resolved (a retry, a release). */
  private readonly applyReleased: ApplyMessage = (msg) => this.applyMessage(msg, false);
  private readonly slotsOf = (event: unknown) => slotsOfKeys(this.definition.keys(event as ProsaEvent));

  /** Decodes one message and feeds it to the actor of each key it concerns. */
  private applyMessage(msg: RawEvent, inOrder: boolean): ApplyOutcome {
    const { definition, host, dirty, lot } = this;
    let keys: ReturnType<typeof definition.keys>;
    let event: ProsaEvent;
    try {
      event = definition.decode(msg);
      keys = definition.keys(event);
    } catch (e) {
      return inOrder ? lot.rejectBad(msg, e, this.slotsOf) : rejected(errorText(e) || 'decode failed');
    }
    // The closures that name the keys live in methods of their own: here they would cost a context
    // per event even when nothing waits or fails (it showed as GC and RSS).
    if (inOrder && lot.anyParked && this.waits(msg, keys)) return WAITING;
    for (const [kind, id] of keys) {
      let hosted: HostedActor;
      try {
        hosted = host.get(kind, id);
      } catch (e) {
        return failed(msg.seq, `cannot start the ${kind} actor ${id}: ${errorText(e)}`, this.parkable(keys));
      }
      const before = hosted.actor.getSnapshot();
      // A machine whose context or entry failed, or a snapshot that no longer restores, would ignore
      // every event: say so, as for an event that fails.
      if (before.status === 'error') {
        host.drop(hosted.slot);
        return failed(
          msg.seq,
          `cannot start the ${kind} actor ${id}: ${errorText(before.error)}`,
          this.parkable(keys),
        );
      }
      hosted.actor.send(event);
      const snap = hosted.actor.getSnapshot() as AnyMachineSnapshot;
      if (snap === before) continue; // ignored by the machine: nothing to write
      if (snap.status === 'error') {
        host.drop(hosted.slot);
        return failed(
          msg.seq,
          `applying ${event.type} to ${kind} ${id} failed: ${errorText(snap.error)}`,
          this.parkable(keys),
        );
      }
      dirty.set(hosted.slot, hosted);
    }
    return APPLIED;
  }

  private waits(msg: RawEvent, keys: readonly (readonly [string, unknown])[]): boolean {
    return this.lot.holds(msg, () => slotsOfKeys(keys));
  }

  /** The entities a failing event parks (none when events do not wait). */
  private parkable(keys: readonly (readonly [string, unknown])[]) {
    return this.lot.slots(() => slotsOfKeys(keys));
  }

  applyOutOfOrder(
    messages: readonly RawEvent[],
    within: (outcome: OutOfOrderOutcome) => void,
  ): OutOfOrderOutcome[] {
    return retryOutOfOrder(this.releaseScope(), messages, within);
  }

  skipDeadLetter(seq: number, within: () => void): Released {
    return skipIn(this.releaseScope(), seq, within);
  }

  /** The slots the code that runs now reads in a message, or undefined when it cannot read them. */
  private readonly slotsOfMessage = (msg: RawEvent) =>
    slotsIfReadable(() => slotsOfKeys(this.definition.keys(this.definition.decode(msg))));

  private releaseScope(): ReleaseScope {
    return {
      lot: this.lot,
      apply: this.applyReleased,
      slotsOf: this.slotsOfMessage,
      discard: () => this.discardBatch(),
      commit: (dead, raw, within) => {
        this.commitWork(dead, raw, this.checkpoint, within);
        this.settle();
      },
    };
  }

  /**
   * Commits what the batch changed. A failed commit (disk full, busy past the timeout) leaves SQLite
   * as it was: the in-memory changes are forgotten too, and the caller retries from the checkpoint.
   */
  private commitWork(
    dead: DeadLetter[],
    raw: Map<number, RawEvent>,
    checkpoint: number,
    within?: () => void,
  ) {
    try {
      this.commit(this.dirty.values(), this.pending.values(), dead, raw, checkpoint, within);
    } catch (e) {
      this.discardBatch();
      throw e;
    }
  }

  /** After a batch: nothing is held for the next one. */
  private settle(): void {
    this.dirty.clear();
    this.pending.clear();
    this.lot.settle();
  }

  passivateAll(): void {
    this.host.clear();
  }

  reload(): void {
    this.host.clear();
    this.dirty.clear();
    this.pending.clear();
    this.lot.reload();
    this.states.reload();
    this.checkpoint = readCheckpoint(this.db, this.name)?.seq ?? 0;
  }

  close(): void {
    this.host.clear();
  }
}

/** Runs a projection over a SQLite database (migrating its schema first). */
export function createProjectionEngine<E extends ProsaEvent, K extends string>(
  definition: ProjectionDefinition<E, K>,
  db: SqliteDatabase,
  options: ProjectionEngineOptions = {},
): ProjectionEngine {
  // The engine hands `keys` and the machines only what `decode` returned, so E is kept end to end.
  return new ProjectionEngineImpl(
    definition as unknown as ProjectionDefinition<ProsaEvent, string>,
    db,
    options,
  );
}
