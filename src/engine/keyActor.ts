/**
 * The actor of one key. The machines prosa runs are pure (no I/O; timers are the runtime's), and
 * for those an XState actor's machinery (mailbox, system registration, observers, inspection events,
 * deferred start) does nothing but cost: the key's actor is its snapshot, moved on by the machine's
 * own `transition` with one actor scope per machine (what XState's `transition()` does, without a
 * new scope per call). Same snapshots, same action order, same error status as an XState actor,
 * without paying per event for machinery a pure machine never uses.
 *
 * A machine that invokes actors or has delayed transitions (`after`) needs a real actor and gets
 * one. What a pure actor cannot do from an action (spawn a child, send a delayed event, send to
 * another actor) fails loudly rather than being dropped: the snapshot goes to `status: 'error'`
 * saying what to use instead, and the engines dead-letter the event as for any failing action.
 */
import {
  type AnyActorScope,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  createActor,
  type EventObject,
} from 'xstate';

export interface KeyActor {
  send(event: EventObject): void;
  getSnapshot(): AnyMachineSnapshot;
  /** XState's persisted form (see serializeSnapshot in actorHost.ts for the compact one). */
  getPersistedSnapshot(): unknown;
  stop(): void;
}

export interface KeyActorOptions {
  input: unknown;
  /** A persisted snapshot to restore; absent for a new key. */
  snapshot?: unknown;
}

// XState reports errors of an actor without an error observer by throwing from a timer, which would
// crash the worker; the engines read `snapshot.status === 'error'` instead.
const ignoreErrors = { error: () => {} };

/** A key's actor: pure transitions when the machine allows it, an XState actor otherwise. */
export function createKeyActor(machine: AnyStateMachine, options: KeyActorOptions): KeyActor {
  if (needsActor(machine)) {
    const actor = createActor(
      machine,
      options.snapshot === undefined
        ? { input: options.input }
        : { input: options.input, snapshot: options.snapshot as never },
    );
    actor.subscribe(ignoreErrors);
    actor.start();
    return actor as KeyActor;
  }
  return new PureActor(machine, scopeOf(machine), options);
}

class PureActor implements KeyActor {
  private snapshot: AnyMachineSnapshot;

  constructor(
    private readonly machine: AnyStateMachine,
    private readonly scope: AnyActorScope,
    options: KeyActorOptions,
  ) {
    // getInitialSnapshot runs the initial entry actions (an XState actor runs them at start) and
    // turns a failure into an error snapshot; restoreSnapshot runs none, as createActor does.
    const first =
      options.snapshot === undefined
        ? machine.getInitialSnapshot(scope, options.input)
        : machine.restoreSnapshot(options.snapshot as never, scope);
    this.snapshot = this.settled(first);
  }

  send(event: EventObject): void {
    // A done, failed or stopped actor ignores events, as an XState actor does.
    if (this.snapshot.status !== 'active') return;
    (this.scope.self as unknown as { _snapshot: unknown })._snapshot = this.snapshot;
    let next: AnyMachineSnapshot;
    try {
      next = this.machine.transition(this.snapshot, event, this.scope);
    } catch (error) {
      deferred.length = 0;
      this.snapshot = withError(this.snapshot, error);
      return;
    }
    this.snapshot = this.settled(next);
  }

  getSnapshot(): AnyMachineSnapshot {
    return this.snapshot;
  }

  getPersistedSnapshot(): unknown {
    return this.machine.getPersistedSnapshot(this.snapshot);
  }

  stop(): void {}

  /**
   * Runs what the transition deferred, as an actor does after it, unless it spawned a child: the
   * deferred work would start that child, which has nowhere to live.
   */
  private settled(snapshot: AnyMachineSnapshot): AnyMachineSnapshot {
    try {
      for (const child in snapshot.children) {
        return withError(
          snapshot,
          new Error(
            `the machine spawned the child actor "${child}" from an action; prosa runs a machine without invoked actors as pure transitions, where children cannot live: declare it with \`invoke\` instead`,
          ),
        );
      }
      for (let i = 0; i < deferred.length; i++) (deferred[i] as () => void)();
      return snapshot;
    } catch (error) {
      return withError(snapshot, error);
    } finally {
      deferred.length = 0;
    }
  }
}

const withError = (snapshot: AnyMachineSnapshot, error: unknown): AnyMachineSnapshot =>
  ({ ...snapshot, status: 'error', error }) as AnyMachineSnapshot;

const needs = new WeakMap<AnyStateMachine, boolean>();

/** Whether any state of the machine invokes an actor or has a delayed transition. */
export function needsActor(machine: AnyStateMachine): boolean {
  let answer = needs.get(machine);
  if (answer === undefined) {
    answer = anyNode(machine.root, (node) => node.invoke.length > 0 || node.after.length > 0);
    needs.set(machine, answer);
  }
  return answer;
}

function anyNode(node: AnyStateNode, test: (node: AnyStateNode) => boolean): boolean {
  if (test(node)) return true;
  for (const child of Object.values(node.states)) if (anyNode(child as AnyStateNode, test)) return true;
  return false;
}

const scopes = new WeakMap<AnyStateMachine, AnyActorScope>();
/** What actions deferred during the transition at hand (one runs at a time: all of this is sync). */
const deferred: (() => void)[] = [];

/**
 * One scope per machine, shared by its keys: `self` is an actor that is never started (actions see
 * it as `self`, with the key's snapshot), and actions run at once, in order, as a running actor's do.
 * Its system refuses what has no place here: a delayed event would live in memory only and be lost
 * at passivation or a restart, and there is no other actor to send to.
 */
function scopeOf(machine: AnyStateMachine): AnyActorScope {
  let scope = scopes.get(machine);
  if (scope) return scope;
  const self = createActor(machine);
  // XState's `log()` action writes where an actor's would: its system's logger (console.log).
  const { logger } = self as unknown as { logger: (...args: unknown[]) => void };
  Object.assign(self.system, {
    scheduler: {
      schedule: () => {
        throw new Error(
          "the machine sent a delayed event (a delayed raise or sendTo); it would be lost at passivation or a restart: use the runtime's timers (startTimeout in a saga)",
        );
      },
      cancel: () => {},
      cancelAll: () => {},
    },
    _relay: () => {
      throw new Error(
        "the machine sent an event to another actor (sendTo, sendParent); a key's machine has no other actors: emit a command (a saga) or fold it into the context",
      );
    },
  });
  scope = {
    self,
    id: '',
    sessionId: '',
    system: self.system,
    logger,
    defer: (fn) => {
      deferred.push(fn);
    },
    emit: () => {},
    stopChild: () => {},
    actionExecutor: (action) => {
      action.exec?.(action.info, action.params);
    },
  };
  scopes.set(machine, scope);
  return scope;
}
