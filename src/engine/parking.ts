/**
 * Keeps an entity's order around a bad event. When a bad event's entities are known, its dead
 * letter parks them: their later events wait (recorded, not applied) until it is resolved (retried
 * and applied, or skipped). An event that touches several entities waits if any of them waits, and
 * then the others wait behind it too, so order holds for all of them. Resolving a blocker releases
 * the events that waited only for it, in stream order (`attemptRelease` in ./release.ts).
 *
 * In memory: `parked` (entity slot -> the seq it waits behind: the latest of its chain) and the
 * blockers (dead letters that park, and waiting events). Changes made during a batch are undone
 * when the batch runs again without a bad message, and written in the batch transaction.
 */
import type { RawEvent } from '../define/projection.js';
import type { SqliteDatabase } from '../store/sqlite.js';
import { createWaitingWriter, loadWaiting, type WaitingWriter } from '../store/waiting.js';
import { type ApplyOutcome, errorText, rejected, WAITING } from './batchLoop.js';

interface Blocker {
  readonly seq: number;
  /** Entities that may be parked on it (those whose parked seq is this one are). */
  readonly slots: readonly string[];
  /** Waiting events that wait for it. */
  readonly dependents: readonly number[];
  /** Set while it waits: its message and the blockers it still waits for. */
  readonly waiting?: { readonly msg: RawEvent; readonly after: readonly number[] };
}

type Op =
  | { op: 'park'; slot: string; seq: number }
  | { op: 'unpark'; slot: string }
  | { op: 'wait'; msg: RawEvent; after: readonly number[] }
  | { op: 'after'; seq: number; after: readonly number[] }
  | { op: 'unwait'; seq: number };

const SEP = '\u0000';

/** The entity slots of `[kind, id]` keys, or undefined when one id is not a non-empty string. */
export function slotsOfKeys(keys: readonly (readonly [string, unknown])[]): string[] | undefined {
  const slots: string[] = [];
  for (const [kind, id] of keys) {
    if (typeof id !== 'string' || id === '') return undefined;
    slots.push(`${kind}${SEP}${id}`);
  }
  return slots;
}

/** What `read` returns, or undefined when it throws (the slots of a message the code cannot read). */
export function slotsIfReadable(read: () => readonly string[] | undefined): readonly string[] | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

export class ParkingLot {
  private readonly parked = new Map<string, number>();
  private readonly blockers = new Map<number, Blocker>();
  private undo: (() => void)[] = [];
  private ops: Op[] = [];
  private readonly writer: WaitingWriter | undefined;

  /** `enabled` false: dead letters park nothing (every event is applied as it comes). */
  constructor(
    readonly enabled: boolean,
    private readonly db: SqliteDatabase,
    private readonly worker: string,
  ) {
    this.writer = enabled ? createWaitingWriter(db, worker) : undefined;
    this.reload();
  }

  /** Re-reads the committed state (after a failed commit, a swap, a restart). */
  reload(): void {
    this.parked.clear();
    this.blockers.clear();
    this.undo = [];
    this.ops = [];
    if (!this.enabled) return;
    const { parked, waiting } = loadWaiting(this.db, this.worker);
    const blocker = (seq: number): Blocker => {
      let b = this.blockers.get(seq);
      if (!b) {
        b = { seq, slots: [], dependents: [] };
        this.blockers.set(seq, b);
      }
      return b;
    };
    for (const w of waiting) {
      const msg = { seq: w.seq, subject: w.subject, data: w.body };
      this.blockers.set(w.seq, { seq: w.seq, slots: [], dependents: [], waiting: { msg, after: w.after } });
    }
    for (const w of waiting) {
      for (const a of w.after) {
        const b = blocker(a);
        (b.dependents as number[]).push(w.seq);
      }
    }
    for (const p of parked) {
      const slot = `${p.kind}${SEP}${p.key}`;
      this.parked.set(slot, p.behindSeq);
      (blocker(p.behindSeq).slots as string[]).push(slot);
    }
  }

  /** Whether an entity's events wait behind a dead letter (its slot: kind NUL id). */
  isParked(slot: string): boolean {
    return this.parked.has(slot);
  }

  /** Whether any entity waits. */
  get anyParked(): boolean {
    return this.parked.size > 0;
  }

  /** How many events wait. */
  get waitingCount(): number {
    let n = 0;
    for (const b of this.blockers.values()) if (b.waiting) n++;
    return n;
  }

  /**
   * Records `msg` as waiting when one of its entities waits (`slots` is asked only then); returns
   * whether it did.
   */
  holds(msg: RawEvent, slots: () => readonly string[] | undefined): boolean {
    if (this.parked.size === 0) return false;
    // Already waiting: a saga reset delivers it again.
    const known = this.blockers.get(msg.seq);
    if (known) return known.waiting !== undefined;
    const of = slots();
    if (!of) return false;
    const after: number[] = [];
    for (const s of of) {
      const tail = this.parked.get(s);
      if (tail === undefined) continue;
      // An event older than the chain's tail is delivered again (a saga reset): it waits only
      // behind what came before it, if anything did.
      const b = tail < msg.seq ? tail : this.latestBefore(tail, msg.seq);
      if (b !== undefined && !after.includes(b)) after.push(b);
    }
    if (after.length === 0) return false;
    this.wait(msg, of, after);
    return true;
  }

  /** The latest blocker before `seq` in the chain that ends at `tail` (walking what each waits for). */
  private latestBefore(tail: number, seq: number): number | undefined {
    let latest: number | undefined;
    const seen = new Set<number>();
    const todo = [tail];
    while (todo.length > 0) {
      const at = todo.pop() as number;
      if (seen.has(at)) continue;
      seen.add(at);
      if (at < seq && (latest === undefined || at > latest)) latest = at;
      const b = this.blockers.get(at);
      if (b?.waiting) todo.push(...b.waiting.after);
    }
    return latest;
  }

  /**
   * A message that failed to decode: when the error names its entities (`InvalidEventError`'s
   * partial event, which `slotsOf` turns into slots inside a try), it waits if one of them waits,
   * else it is rejected naming them, so they wait behind its dead letter.
   */
  rejectBad(
    msg: RawEvent,
    error: unknown,
    slotsOf: (event: unknown) => readonly string[] | undefined,
  ): ApplyOutcome {
    const reason = errorText(error) || 'decode failed';
    const partial = this.enabled
      ? (error as { partialEvent?: unknown } | undefined)?.partialEvent
      : undefined;
    if (partial === undefined) return rejected(reason);
    let slots: readonly string[] | undefined;
    try {
      slots = slotsOf(partial);
    } catch {
      return rejected(reason);
    }
    if (!slots || slots.length === 0) return rejected(reason);
    if (this.holds(msg, () => slots)) return WAITING;
    return rejected(reason, slots);
  }

  /** What a failed message parks: its slots when on (`slots` is asked only then). */
  slots(of: () => readonly string[] | undefined): readonly string[] | undefined {
    return this.enabled ? of() : undefined;
  }

  /**
   * `seq` is a dead letter whose entities are known: they wait behind it. A waiting event that
   * failed when released keeps its entities parked on it.
   */
  deadLetter(seq: number, slots: readonly string[]): void {
    if (!this.enabled) return;
    const b = this.blockers.get(seq);
    if (b?.waiting) {
      this.set(this.blockers, seq, { seq, slots: b.slots, dependents: b.dependents });
      this.ops.push({ op: 'unwait', seq });
      return;
    }
    if (slots.length === 0) return;
    const known = b ? [...b.slots, ...slots.filter((s) => !b.slots.includes(s))] : slots;
    this.set(this.blockers, seq, { seq, slots: known, dependents: b?.dependents ?? [] });
    // Dead-lettered again (a saga reset delivers it again): a later event may be the chain's tail.
    for (const s of slots) if ((this.parked.get(s) ?? 0) < seq) this.park(s, seq);
  }

  /**
   * The dead letters before `seq` that entities among `slots` wait behind (directly, or through a
   * waiting event), in stream order; `slots` is asked only when something waits.
   */
  deadLettersBefore(seq: number, slots: () => readonly string[] | undefined): number[] {
    if (this.blockers.size === 0) return [];
    const of = slots();
    if (!of || of.length === 0) return [];
    const roots = new Set<number>();
    const rootsOf = (b: Blocker) => {
      if (!b.waiting) roots.add(b.seq);
      else
        for (const a of b.waiting.after) {
          const next = this.blockers.get(a);
          if (next) rootsOf(next);
        }
    };
    for (const b of this.blockers.values()) {
      if (b.seq < seq && b.slots.some((s) => of.includes(s))) rootsOf(b);
    }
    return [...roots].filter((r) => r < seq).sort((x, y) => x - y);
  }

  /** The message of a waiting event. */
  messageOf(seq: number): RawEvent | undefined {
    return this.blockers.get(seq)?.waiting?.msg;
  }

  /** Whether `seq` holds events back (a dead letter that parks, or a waiting event). */
  isBlocker(seq: number): boolean {
    return this.blockers.has(seq);
  }

  /**
   * `seq` is resolved (its dead letter applied or skipped, or a waiting event applied): its
   * entities are free unless a later event parked them, and the waiting events that waited only for
   * it are returned, ready, in stream order.
   */
  resolve(seq: number): number[] {
    const b = this.blockers.get(seq);
    if (!b) return [];
    this.delete(this.blockers, seq);
    if (b.waiting) this.ops.push({ op: 'unwait', seq });
    for (const s of b.slots) {
      if (this.parked.get(s) !== seq) continue;
      this.delete(this.parked, s);
      this.ops.push({ op: 'unpark', slot: s });
    }
    const ready: number[] = [];
    for (const d of b.dependents) {
      const w = this.blockers.get(d);
      if (!w?.waiting) continue;
      const after = w.waiting.after.filter((a) => a !== seq);
      this.set(this.blockers, d, { ...w, waiting: { msg: w.waiting.msg, after } });
      this.ops.push({ op: 'after', seq: d, after });
      if (after.length === 0) ready.push(d);
    }
    return ready.sort((x, y) => x - y);
  }

  /** Forgets the changes since the last commit (the batch runs again, or its commit failed). */
  discard(): void {
    for (let i = this.undo.length - 1; i >= 0; i--) this.undo[i]?.();
    this.undo = [];
    this.ops = [];
  }

  /** Writes the changes since the last commit; call inside the batch transaction. */
  flush(at: string): void {
    const w = this.writer;
    if (!w) return;
    for (const op of this.ops) {
      switch (op.op) {
        case 'park':
        case 'unpark': {
          const cut = op.slot.indexOf(SEP);
          const kind = op.slot.slice(0, cut);
          const key = op.slot.slice(cut + 1);
          if (op.op === 'park') w.park(kind, key, op.seq);
          else w.unpark(kind, key);
          break;
        }
        case 'wait':
          w.addWaiting(
            { seq: op.msg.seq, subject: op.msg.subject, body: op.msg.data, after: [...op.after] },
            at,
          );
          break;
        case 'after':
          w.setAfter(op.seq, op.after);
          break;
        case 'unwait':
          w.removeWaiting(op.seq);
          break;
      }
    }
  }

  /** The changes were committed: they stay. */
  settle(): void {
    this.undo = [];
    this.ops = [];
  }

  /** Whether there are changes to commit. */
  get changed(): boolean {
    return this.ops.length > 0;
  }

  private wait(msg: RawEvent, slots: readonly string[], after: readonly number[]): void {
    this.set(this.blockers, msg.seq, { seq: msg.seq, slots, dependents: [], waiting: { msg, after } });
    for (const a of after) {
      const b = this.blockers.get(a);
      if (b) this.set(this.blockers, a, { ...b, dependents: [...b.dependents, msg.seq] });
    }
    // The chain's tail moves to it, unless a later event already waits (it is delivered again).
    for (const s of slots) if ((this.parked.get(s) ?? 0) < msg.seq) this.park(s, msg.seq);
    this.ops.push({ op: 'wait', msg, after });
  }

  private park(slot: string, seq: number): void {
    this.set(this.parked, slot, seq);
    this.ops.push({ op: 'park', slot, seq });
  }

  private set<K, V>(map: Map<K, V>, key: K, value: V): void {
    const had = map.has(key);
    const prev = map.get(key);
    map.set(key, value);
    this.undo.push(() => (had ? map.set(key, prev as V) : map.delete(key)));
  }

  private delete<K, V>(map: Map<K, V>, key: K): void {
    if (!map.has(key)) return;
    const prev = map.get(key) as V;
    map.delete(key);
    this.undo.push(() => map.set(key, prev));
  }
}
