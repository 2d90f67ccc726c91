/**
 * One live actor per entity key (src/engine/keyActor.ts: the machine's own transitions, or an XState actor
 * where the machine needs one), capped: past `maxActors` the least recently used actor is
 * passivated (handed to `onPassivate`, then stopped). An actor that is asked for again comes back
 * from its persisted snapshot (`load`), never by replaying the stream.
 */
import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { defaults } from '../defaults.js';
import { createKeyActor, type KeyActor } from './keyActor.js';

export interface HostedActor {
  readonly kind: string;
  readonly id: string;
  /** `kind` + NUL + `id`: the host's map key. */
  readonly slot: string;
  readonly actor: KeyActor;
}

export interface ActorHostOptions {
  machines: Readonly<Record<string, AnyStateMachine>>;
  /** Live actors kept; the least recently used beyond it are passivated. @default 10_000 */
  maxActors?: number;
  /** The persisted snapshot of a key, if it has one. */
  load: (kind: string, id: string, slot: string) => unknown | undefined;
  /** Called before an actor is passivated (it is still live), e.g. to persist it. */
  onPassivate?: (actor: HostedActor) => void;
}

export interface ActorHost {
  /** The live actor of a key: kept, restored from its snapshot, or new. Marks it most recently used. */
  get(kind: string, id: string): HostedActor;
  /** Stops and forgets an actor without passivating it (its next `get` loads the persisted snapshot). */
  drop(slot: string): void;
  /** Stops and forgets every actor. */
  clear(): void;
  readonly size: number;
}

export const slotOf = (kind: string, id: string): string => `${kind}\u0000${id}`;

/**
 * An actor's state as stored text. A machine with no children and no history is fully described by
 * `{status, value, context}` (plus `output` once done): writing that directly skips
 * `getPersistedSnapshot`'s deep copy, which every changed actor would otherwise pay at each commit.
 * Anything richer is stored in XState's own persisted form.
 */
export function serializeSnapshot(actor: KeyActor): string {
  const snap = actor.getSnapshot() as AnyMachineSnapshot;
  if (isCompact(snap)) {
    const { status, value, context, output } = snap;
    return JSON.stringify(
      output === undefined ? { status, value, context } : { status, value, context, output },
    );
  }
  return JSON.stringify(actor.getPersistedSnapshot());
}

/** Stored text back into a snapshot `createActor` restores (either form of {@link serializeSnapshot}). */
export function parseSnapshot(text: string): unknown {
  const snap = JSON.parse(text) as Record<string, unknown>;
  snap.children ??= {};
  snap.historyValue ??= {};
  return snap;
}

/** A snapshot fully described by its status, value, context and output: no children, no history. */
export const isCompact = (snap: AnyMachineSnapshot): boolean =>
  isEmpty(snap.children) && isEmpty(snap.historyValue);

function isEmpty(o: object | undefined): boolean {
  for (const _ in o) return false;
  return true;
}

export function createActorHost(options: ActorHostOptions): ActorHost {
  const maxActors = options.maxActors ?? defaults.worker.maxActors;
  // A Map iterates in insertion order; re-inserting on use makes its first key the least recently used.
  const live = new Map<string, HostedActor>();

  const start = (kind: string, id: string, slot: string): HostedActor => {
    const machine = options.machines[kind];
    if (!machine) throw new Error(`no machine for entity kind "${kind}"`);
    const snapshot = options.load(kind, id, slot);
    const actor = createKeyActor(
      machine,
      snapshot === undefined ? { input: { id } } : { input: { id }, snapshot },
    );
    return { kind, id, slot, actor };
  };

  return {
    get(kind, id) {
      const slot = slotOf(kind, id);
      let hosted = live.get(slot);
      if (hosted) {
        live.delete(slot);
        live.set(slot, hosted);
        return hosted;
      }
      hosted = start(kind, id, slot);
      live.set(slot, hosted);
      while (live.size > maxActors) {
        const [oldestSlot, oldest] = live.entries().next().value as [string, HostedActor];
        options.onPassivate?.(oldest);
        live.delete(oldestSlot);
        oldest.actor.stop();
      }
      return hosted;
    },
    drop(slot) {
      const hosted = live.get(slot);
      if (!hosted) return;
      live.delete(slot);
      hosted.actor.stop();
    },
    clear() {
      for (const hosted of live.values()) hosted.actor.stop();
      live.clear();
    },
    get size() {
      return live.size;
    },
  };
}
