/**
 * The saga engine: decode -> correlate -> one actor per instance -> effects. Per batch, one SQLite
 * transaction holds the changed instance snapshots, finished instances, new outbox rows (commands),
 * timer rows and the checkpoint. Like the projection engine it knows nothing of NATS;
 * the saga worker feeds it and publishes the outbox after each commit.
 *
 * Determinism is what makes a replay after a crash emit the same commands and timers: their ids
 * derive from the saga, the instance and the cause (src/engine/sagaEffects.ts).
 *
 * Timers are the runtime's (XState does not persist delayed events): `startTimeout` writes a row
 * with its due time from the injected clock; `fireDueTimers()` sends `prosa.timeout` to the
 * instance, once. Leaving the state that set a timer cancels it, as does finishing.
 */
import type { AnyMachineSnapshot } from 'xstate';
import { defaults } from '../defaults.js';
import type { ProsaEvent, RawEvent } from '../define/projection.js';
import {
  cimTrace,
  type EffectSink,
  type SagaDefinition,
  type Trace,
  withEffectSink,
} from '../define/saga.js';
import { subjectMatcher } from '../define/subjects.js';
import { createCheckpointMover, readCheckpoint } from '../store/checkpoints.js';
import type { SqliteDatabase } from '../store/database.js';
import { createDeadLetterWriter, createResolutionCheck } from '../store/deadLetters.js';
import { createOutboxReader, createOutboxWriter, eventPosition } from '../store/outbox.js';
import { createSagaInstanceStore, type SagaInstanceStore } from '../store/sagaInstances.js';
import { createTimerStore, type TimerStore } from '../store/timers.js';
import { systemClock } from '../time/clock.js';
import { parseDuration } from '../time/duration.js';
import {
  type ActorHost,
  createActorHost,
  type HostedActor,
  parseSnapshot,
  serializeSnapshot,
} from './actorHost.js';
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
import { ParkingLot, slotsIfReadable } from './parking.js';
import {
  type OutOfOrderOutcome,
  type Released,
  type ReleaseScope,
  retryOutOfOrder,
  skipIn,
} from './release.js';
import {
  createSagaEffectSink,
  type OutboxEntry,
  type SendContext,
  type TimerOp,
  type TimerView,
} from './sagaEffects.js';

export { PROSA_NAMESPACE, type SagaCommand } from './sagaEffects.js';
export type { SagaEngine, SagaEngineOptions } from './sagaEngineApi.js';

import type { SagaEngine, SagaEngineOptions } from './sagaEngineApi.js';

interface InstanceWrite {
  id: string;
  snapshot: string;
  state: string;
  timers: Map<string, TimerView>;
}

const KIND = 'instance';
/** The entity slots of saga instance ids (./parking.ts), or undefined when one is not a non-empty string. */
const instanceSlots = (ids: readonly unknown[]): string[] | undefined =>
  ids.every((id) => typeof id === 'string' && id !== '') ? ids.map((id) => `${KIND}\u0000${id}`) : undefined;
const stateKey = (s: AnyMachineSnapshot) => JSON.stringify(s.value);

class SagaEngineImpl implements SagaEngine {
  readonly name: string;
  checkpoint = 0;
  private readonly host: ActorHost;
  private readonly consumes: (subject: string) => boolean;
  private readonly trace: (e: ProsaEvent) => Trace;
  private readonly durations = new Map<string, number>();
  private readonly now: () => number;
  private readonly policy: BatchPolicy;
  private readonly stream: string;
  private readonly instances: SagaInstanceStore;
  private readonly timers: TimerStore;
  private readonly lot: ParkingLot;
  private readonly givenUp: (worker: string, seq: number) => boolean;
  private readonly commit: (
    checkpoint: number,
    dead: DeadLetter[],
    raw: Map<number, RawEvent>,
    within?: () => void,
  ) => void;

  // Batch scope: all of it is discarded if the batch is run again without a bad message.
  private dirty = new Map<string, HostedActor>();
  private pending = new Map<string, InstanceWrite>();
  /** Instances that ended (finished, or back to idle) in this batch: rows to delete, by slot. */
  private ended = new Map<string, string>();
  private finished: { id: string; state: string; cause: string }[] = [];
  private commands: (OutboxEntry & { position: number })[] = [];
  /**
   * The outbox position of what the send in progress emits: its event's in order, else (a timer, a
   * retried dead letter) the next free one after the checkpoint's (../store/outbox.ts).
   */
  private position = 0;
  private readonly highestPosition: () => number;
  private readonly positionFloor: () => number;
  private timerOps: TimerOp[] = [];
  /** Pending timers of each live instance, loaded with it. */
  private timerViews = new Map<string, Map<string, TimerView>>();
  /** Whether the last `load` found a stored instance. */
  private loadedExisting = false;
  private ctx: SendContext | undefined;
  private readonly sink: EffectSink;

  constructor(
    private readonly definition: SagaDefinition<ProsaEvent, string, string>,
    private readonly db: SqliteDatabase,
    options: SagaEngineOptions,
  ) {
    this.name = definition.name;
    const clock = options.clock ?? systemClock;
    this.now = () => clock.now();
    const onError = options.onError ?? defaults.worker.onError;
    this.policy = options.policy ?? { verdict: () => onError };
    this.stream = options.stream ?? definition.source.stream;
    this.consumes = subjectMatcher(definition.source.subjects);
    this.trace = definition.trace ?? cimTrace;
    for (const [name, text] of Object.entries(definition.timeouts)) {
      const ms = options.timeouts?.[name] ?? parseDuration(text as string);
      if (ms === undefined)
        throw new Error(`saga ${this.name}: timeouts.${name} is not a duration like "5m"`);
      this.durations.set(name, ms);
    }

    const saga = this.name;
    this.lot = new ParkingLot((options.deadLetters ?? defaults.worker.deadLetters) === 'ordered', db, saga);
    this.givenUp = createResolutionCheck(db, ['skipped', 'purged']);
    this.instances = createSagaInstanceStore(db);
    this.timers = createTimerStore(db);
    const addCommand = createOutboxWriter(db);
    const outbox = createOutboxReader(db);
    this.highestPosition = () => outbox.highestPosition(saga);
    this.positionFloor = options.positionFloor ?? (() => 0);
    const moveCheckpoint = createCheckpointMover(db);
    const saveDeadLetter = createDeadLetterWriter(db);

    this.sink = createSagaEffectSink(
      { saga, commands: definition.commands, durations: this.durations, now: this.now },
      {
        context: () => this.context(),
        addCommand: (entry) => this.commands.push({ ...entry, position: this.position }),
        addTimerOp: (op) => this.timerOps.push(op),
      },
    );

    this.host = createActorHost({
      machines: { [KIND]: definition.machine },
      maxActors: options.maxActors ?? defaults.worker.maxActors,
      load: (_kind, id, slot) => this.load(id, slot),
      onPassivate: (hosted) => {
        const timers = this.timerViews.get(hosted.slot) ?? new Map();
        this.timerViews.delete(hosted.slot);
        if (this.dirty.has(hosted.slot)) {
          this.dirty.delete(hosted.slot);
          this.pending.set(hosted.slot, { ...this.capture(hosted), timers });
        }
      },
    });

    this.commit = db.transaction(
      (checkpoint: number, dead: DeadLetter[], raw: Map<number, RawEvent>, within?: () => void) => {
        within?.();
        const at = this.now();
        const iso = new Date(at).toISOString();
        const { instances, timers } = this;
        for (const id of this.ended.values()) instances.remove(saga, id);
        for (const f of this.finished) instances.finish(saga, f.id, at, f.state, f.cause);
        for (const w of this.pending.values()) instances.save(saga, w.id, w.snapshot, w.state, iso);
        for (const h of this.dirty.values()) {
          const w = this.capture(h);
          instances.save(saga, w.id, w.snapshot, w.state, iso);
        }
        for (const op of this.timerOps) {
          if (op.op === 'start') {
            timers.cancelByName(saga, op.instance, op.name, at, op.timerId);
            timers.start(saga, op, at);
          } else timers.end(op.timerId, op.op === 'fired' ? 'fired' : 'cancelled', at);
        }
        for (const c of this.commands) addCommand(c.id, saga, c.instance, c.subject, c.body, at, c.position);
        for (const d of dead) {
          saveDeadLetter(
            saga,
            this.stream,
            d.seq,
            d.subject,
            raw.get(d.seq)?.data ?? new Uint8Array(),
            d.reason,
            iso,
          );
        }
        this.lot.flush(iso);
        if (checkpoint !== this.checkpoint) moveCheckpoint(saga, checkpoint, iso);
      },
    );
    this.checkpoint = readCheckpoint(db, saga)?.seq ?? 0;
  }

  get liveActors(): number {
    return this.host.size;
  }

  get waiting(): number {
    return this.lot.waitingCount;
  }

  private context(): SendContext {
    if (!this.ctx) throw new Error('saga effect outside a send');
    return this.ctx;
  }

  /**
   * An instance's snapshot for the actor host, with its pending timers into `timerViews`: one
   * passivated earlier in this batch, none for one that ended in it, else the stored one.
   */
  private load(id: string, slot: string): unknown | undefined {
    const pending = this.pending.get(slot);
    if (pending) {
      this.pending.delete(slot);
      this.timerViews.set(slot, pending.timers);
      this.loadedExisting = true;
      return parseSnapshot(pending.snapshot);
    }
    if (this.ended.has(slot)) {
      this.timerViews.set(slot, new Map());
      this.loadedExisting = false;
      return undefined;
    }
    const text = this.instances.load(this.name, id);
    const timers = new Map<string, TimerView>();
    if (text !== undefined) {
      for (const t of this.timers.pendingOf(this.name, id))
        timers.set(t.name, { timerId: t.timerId, state: t.state });
    }
    this.timerViews.set(slot, timers);
    this.loadedExisting = text !== undefined;
    return text === undefined ? undefined : parseSnapshot(text);
  }

  private capture(hosted: HostedActor): { id: string; snapshot: string; state: string } {
    const snap = hosted.actor.getSnapshot() as AnyMachineSnapshot;
    return {
      id: hosted.id,
      snapshot: serializeSnapshot(hosted.actor),
      state: stateKey(snap),
    };
  }

  /**
   * Sends one event to one instance and files its effects. Returns why it failed, or undefined once
   * delivered; a failure undoes nothing yet (the caller discards the attempt).
   */
  private deliver(id: string, event: ProsaEvent, cause: string, trace: Trace): string | undefined {
    const ctx: SendContext = { instance: id, cause, trace, index: 0, started: [], timers: new Map() };
    this.ctx = ctx;
    try {
      let hosted: HostedActor;
      // An instance already live exists; `load` says otherwise for one it has to start.
      this.loadedExisting = true;
      try {
        hosted = withEffectSink(this.sink, () => {
          const h = this.host.get(KIND, id);
          ctx.timers = this.timerViews.get(h.slot) ?? new Map();
          return h;
        });
      } catch (e) {
        return `cannot start saga instance ${id}: ${(e as Error).message}`;
      }
      const existed = this.loadedExisting;
      const fresh = hosted.actor.getSnapshot() as AnyMachineSnapshot;
      if (fresh.status === 'error') {
        this.host.drop(hosted.slot);
        return `saga instance ${id} failed to start: ${errorText(fresh.error)}`;
      }
      withEffectSink(this.sink, () => hosted.actor.send(event));
      const snap = hosted.actor.getSnapshot() as AnyMachineSnapshot;
      if (snap.status === 'error') {
        this.host.drop(hosted.slot);
        return `applying ${event.type} to saga instance ${id} failed: ${errorText(snap.error)}`;
      }
      const state = stateKey(snap);
      for (const op of ctx.started) if (op.op === 'start') op.state = state;
      for (const [name, view] of ctx.timers) {
        if (view.state === '') view.state = state;
        // Leaving the state that set a timer cancels it.
        else if (!snap.matches(JSON.parse(view.state))) {
          ctx.timers.delete(name);
          this.timerOps.push({ op: 'cancel', instance: id, name, timerId: view.timerId });
        }
      }
      if (snap.status === 'done' || snap.hasTag('idle')) {
        for (const [name, view] of ctx.timers)
          this.timerOps.push({ op: 'cancel', instance: id, name, timerId: view.timerId });
        this.dirty.delete(hosted.slot);
        this.host.drop(hosted.slot);
        this.timerViews.delete(hosted.slot);
        if (existed || snap.status === 'done') this.ended.set(hosted.slot, id);
        if (snap.status === 'done') this.finished.push({ id, state, cause });
      } else {
        this.dirty.set(hosted.slot, hosted);
      }
      return undefined;
    } finally {
      this.ctx = undefined;
    }
  }

  /** Forgets the batch: every actor comes back from its committed snapshot (a rare path). */
  private discardBatch(): void {
    this.host.clear();
    this.timerViews.clear();
    this.clearBatch();
    this.lot.discard();
  }

  private clearBatch(): void {
    this.dirty.clear();
    this.pending.clear();
    this.ended.clear();
    this.finished = [];
    this.commands = [];
    this.timerOps = [];
  }

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
          // One an operator gave up on, delivered again by a reset, holds nothing back.
          (seq, slots) => this.givenUp(this.name, seq) || this.lot.deadLetter(seq, slots),
          (msg) => this.lot.slots(() => this.slotsOfMessage(msg)),
        ),
      () => this.discardBatch(),
    );
    this.commitBatch(attempt.checkpoint, attempt.dead, attempt.raw);
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

  /** Applies a message in stream order: it waits when one of its instances waits. */
  private readonly applyOne: ApplyMessage = (msg) => this.applyMessage(msg, true);
  /** Applies a message whose blockers are resolved (a retry, a release). */
  private readonly applyReleased: ApplyMessage = (msg) => this.applyMessage(msg, false);
  private readonly slotsOf = (event: unknown) =>
    instanceSlots(this.definition.correlate(event as ProsaEvent));

  /** Decodes one message and delivers it to each instance it belongs to. */
  private applyMessage(msg: RawEvent, inOrder: boolean): ApplyOutcome {
    let event: ProsaEvent;
    let ids: readonly string[];
    let trace: Trace;
    try {
      event = this.definition.decode(msg);
      ids = this.definition.correlate(event);
      trace = this.trace(event);
    } catch (e) {
      return inOrder ? this.lot.rejectBad(msg, e, this.slotsOf) : rejected(errorText(e) || 'decode failed');
    }
    // The closures that name the ids live in methods of their own (a context per event otherwise).
    if (inOrder && ids.length > 0 && this.lot.anyParked && this.waits(msg, ids)) return WAITING;
    const cause = `${this.stream}:${msg.seq}`;
    this.position = inOrder ? eventPosition(msg.seq) : this.nextLocalPosition();
    for (const id of ids) {
      const failure = this.deliver(id, event, cause, trace);
      if (failure !== undefined) return failed(msg.seq, failure, this.parkable(ids));
    }
    return APPLIED;
  }

  private waits(msg: RawEvent, ids: readonly string[]): boolean {
    return this.lot.holds(msg, () => instanceSlots(ids));
  }

  /** The instances a failing event parks (none when events do not wait). */
  private parkable(ids: readonly string[]) {
    return this.lot.slots(() => instanceSlots(ids));
  }

  private commitBatch(
    checkpoint: number,
    dead: DeadLetter[],
    raw: Map<number, RawEvent>,
    within?: () => void,
  ): void {
    try {
      this.commit(checkpoint, dead, raw, within);
    } catch (e) {
      this.discardBatch();
      throw e;
    }
    this.clearBatch();
    this.lot.settle();
    this.checkpoint = checkpoint;
  }

  nextLocalPosition(): number {
    return Math.max(eventPosition(this.checkpoint), this.highestPosition(), this.positionFloor()) + 1;
  }

  dueTimers(): string[] {
    return this.due().map((t) => t.timerId);
  }

  private due() {
    return this.lot.anyParked ? this.dueUnparked() : this.timers.due(this.name, this.now());
  }

  fireDueTimers(only?: ReadonlyMap<string, number>): number {
    const due = only ? this.due().filter((t) => only.has(t.timerId)) : this.due();
    if (due.length === 0) return 0;
    // Timers whose delivery failed, with why: each attempt cancels them instead of firing them.
    const failedTimers = new Map<string, string>();
    const local = only ? 0 : this.nextLocalPosition();
    for (;;) {
      let failedOne = false;
      // Timers an earlier delivery of this look cancelled or replaced (leaving their state, finishing,
      // starting the same name again): they must not be delivered after all.
      const ended = new Set<string>();
      for (const t of due) {
        if (ended.has(t.timerId) || ended.has(`${t.instance}\u0000${t.name}`)) continue;
        this.timerOps.push({
          op: failedTimers.has(t.timerId) ? 'cancel' : 'fired',
          instance: t.instance,
          name: t.name,
          timerId: t.timerId,
        });
        if (failedTimers.has(t.timerId)) continue;
        const slot = `${KIND}\u0000${t.instance}`;
        // The timer leaves the instance's view before it is delivered: firing it consumes it.
        const view = this.timerViews.get(slot);
        if (view?.get(t.name)?.timerId === t.timerId) view.delete(t.name);
        const event = { type: 'prosa.timeout', name: t.name, timerId: t.timerId };
        this.position = only?.get(t.timerId) ?? local;
        const from = this.timerOps.length;
        const failure = this.deliverTimer(t, event);
        if (failure !== undefined) {
          failedTimers.set(t.timerId, failure);
          failedOne = true;
          break;
        }
        for (let i = from; i < this.timerOps.length; i++) {
          const op = this.timerOps[i] as TimerOp;
          if (op.op === 'cancel') ended.add(op.timerId);
          else if (op.op === 'start') ended.add(`${op.instance}\u0000${op.name}`);
        }
      }
      if (!failedOne) break;
      this.discardBatch();
    }
    this.commitBatch(this.checkpoint, [], new Map());
    return due.length;
  }

  private deliverTimer(
    t: { timerId: string; instance: string; correlationId: string },
    event: ProsaEvent,
  ): string | undefined {
    const trace: Trace = { correlationId: t.correlationId, causationId: t.timerId };
    const failure = this.deliver(t.instance, event, `timer:${t.timerId}`, trace);
    if (failure !== undefined) return failure;
    // A timer of the instance's own view is consumed on delivery; a stale one (instance gone) did nothing.
    const hostedView = this.timerViews.get(`${KIND}\u0000${t.instance}`);
    hostedView?.forEach((v, name) => {
      if (v.timerId === t.timerId) hostedView.delete(name);
    });
    return undefined;
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
    slotsIfReadable(() => instanceSlots(this.definition.correlate(this.definition.decode(msg))));

  private releaseScope(): ReleaseScope {
    return {
      lot: this.lot,
      apply: this.applyReleased,
      slotsOf: this.slotsOfMessage,
      discard: () => this.discardBatch(),
      commit: (dead, raw, within) => this.commitBatch(this.checkpoint, dead, raw, within),
    };
  }

  nextTimeoutAt(): number | undefined {
    if (!this.lot.anyParked) return this.timers.nextDue(this.name);
    // A waiting instance's timers wait with its events: they fire once it is released.
    for (const t of this.timers.pendingByDue(this.name)) if (!this.parkedInstance(t.instance)) return t.dueAt;
    return undefined;
  }

  private parkedInstance(instance: string): boolean {
    return this.lot.isParked(`${KIND}\u0000${instance}`);
  }

  /** The due timers of instances whose events do not wait, in due order (a bounded page). */
  private dueUnparked() {
    const now = this.now();
    const due: { timerId: string; instance: string; name: string; correlationId: string }[] = [];
    for (const t of this.timers.pendingByDue(this.name)) {
      if (t.dueAt > now || due.length >= 500) break;
      if (!this.parkedInstance(t.instance)) due.push(t);
    }
    return due;
  }

  activeInstances(): number {
    return this.instances.count(this.name);
  }

  passivateAll(): void {
    this.host.clear();
    this.timerViews.clear();
  }

  reload(): void {
    this.host.clear();
    this.timerViews.clear();
    this.clearBatch();
    this.lot.reload();
    this.checkpoint = readCheckpoint(this.db, this.name)?.seq ?? 0;
  }

  close(): void {
    this.host.clear();
    this.timerViews.clear();
  }
}

export function createSagaEngine<E extends ProsaEvent, T extends string, C extends string>(
  definition: SagaDefinition<E, T, C>,
  db: SqliteDatabase,
  options: SagaEngineOptions = {},
): SagaEngine {
  // The engine hands `correlate`, `trace` and the machine only what `decode` returned.
  return new SagaEngineImpl(definition as unknown as SagaDefinition<ProsaEvent, string, string>, db, options);
}
