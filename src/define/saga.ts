/**
 * What a user declares to run a business process: where its events come from, which instance(s) an
 * event belongs to, the pure machine that decides, its named timeouts and the commands it emits.
 * `defineSaga` only checks and returns it; the runtime runs it (src/engine/sagaEngine.ts).
 *
 * A machine's effects are named actions from `sagaActions` (`emitCommand`, `startTimeout`,
 * `cancelTimeout`). Calling them records the effect in the sink the engine set for this `send`; the
 * engine writes them as outbox and timer rows in the batch transaction. Nothing is published or
 * scheduled from inside a machine, so machines stay pure and replayable.
 */
import type { AnyStateMachine } from 'xstate';
import { ProsaError } from '../errors.js';
import type { ProjectionSource, ProsaEvent, RawEvent } from './projection.js';

/** The event the runtime sends when a timeout is due. */
export interface SagaTimeoutEvent<N extends string = string> {
  readonly type: 'prosa.timeout';
  readonly name: N;
  /** Deterministic id of the timer; commands it causes carry it as causation_id. */
  readonly timerId: string;
}

export interface EmitCommandParams {
  /** The command type, a key of the saga's `commands`. */
  readonly type: string;
  /** The aggregate the command is for. */
  readonly aggregateId: string;
  readonly data: unknown;
}

export interface StartTimeoutParams {
  /** A key of the saga's `timeouts`. */
  readonly name: string;
}

export interface CancelTimeoutParams {
  readonly name: string;
}

/** Where the actions of one `send` are recorded. */
export interface EffectSink {
  emitCommand(params: EmitCommandParams): void;
  startTimeout(params: StartTimeoutParams): void;
  cancelTimeout(params: CancelTimeoutParams): void;
}

// Kept on globalThis, not in this module: a config loaded by a TypeScript loader can hold its own
// copy of this module (the machines' `sagaActions`) beside the runtime's, and both must see one sink.
const SINK = Symbol.for('prosa.effectSink');
const holder = globalThis as { [SINK]?: EffectSink | undefined };

/** Runs `fn` (a synchronous `send`) with effects going to `target`. */
export function withEffectSink<T>(target: EffectSink, fn: () => T): T {
  const previous = holder[SINK];
  holder[SINK] = target;
  try {
    return fn();
  } finally {
    holder[SINK] = previous;
  }
}

const current = (): EffectSink => {
  const sink = holder[SINK];
  if (!sink) {
    throw new Error(
      'a saga action ran outside the saga runtime; run the machine with the runtime, sagaScenario() or withEffectSink()',
    );
  }
  return sink;
};

/**
 * The actions a saga machine uses for its effects: `setup({ actions: { ...sagaActions, ... } })`, then
 * `{ type: 'emitCommand', params: ({ context, event }) => ({ type, aggregateId, data }) }`,
 * `{ type: 'startTimeout', params: { name: 'stuck' } }`, `{ type: 'cancelTimeout', params: { name: 'stuck' } }`.
 */
export const sagaActions = {
  emitCommand: (_: unknown, params: EmitCommandParams) => current().emitCommand(params),
  startTimeout: (_: unknown, params: StartTimeoutParams) => current().startTimeout(params),
  cancelTimeout: (_: unknown, params: CancelTimeoutParams) => current().cancelTimeout(params),
};

/** Correlation and causation a command inherits from the event that caused it. */
export interface Trace {
  readonly correlationId: string;
  readonly causationId: string;
}

export interface SagaDefinition<
  E extends ProsaEvent = ProsaEvent,
  T extends string = string,
  C extends string = string,
> {
  /** Names the durable consumer, the dead letter subject and the saga's rows. */
  readonly name: string;
  readonly source: ProjectionSource;
  /** Decode and validate; throw `InvalidEventError` to dead-letter. */
  readonly decode: (raw: RawEvent) => E;
  /** The instance ids an event belongs to: none, one or several. */
  readonly correlate: (event: E) => readonly string[];
  /**
   * Pure machine, one actor per instance id (`input: { id }`). An instance in a state tagged `'idle'`
   * does not exist (nothing is stored); in a final state it is finished.
   */
  readonly machine: AnyStateMachine;
  /** Named timeouts with their default durations, e.g. `{ stuck: '5m' }`; config overrides them. */
  readonly timeouts: { readonly [name in T]: string };
  /** Command type -> subject, e.g. `SeverConnection: 'commands.infrastructure.SeverConnection'`. */
  readonly commands: { readonly [type in C]: string };
  /**
   * What a command inherits from its event.
   * @default the CIM domain ids inside `data` (docs/wire-format.md#commands)
   */
  readonly trace?: (event: E) => Trace;
}

export function defineSaga<E extends ProsaEvent, T extends string, C extends string>(
  definition: SagaDefinition<E, T, C>,
): SagaDefinition<E, T, C> {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9_-]+$/.test(definition.name ?? '')) problems.push('name must match [A-Za-z0-9_-]+');
  if (!definition.source?.stream) problems.push('source.stream is required');
  if (!definition.source?.subjects?.length) problems.push('source.subjects must name at least one subject');
  if (!definition.machine) problems.push('machine is required');
  if (typeof definition.correlate !== 'function') problems.push('correlate must be a function');
  for (const [type, subject] of Object.entries(definition.commands ?? {})) {
    if (typeof subject !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(subject))
      problems.push(`commands.${type} must be a subject without wildcards`);
  }
  if (problems.length > 0)
    throw new ProsaError(
      'PROSA_PROJECTION_INVALID',
      `saga ${definition.name ?? '(unnamed)'}: ${problems.join('; ')}`,
    );
  return definition;
}

/** The default trace: the domain event's ids inside `data` (CIM), else the envelope's. */
export function cimTrace(event: ProsaEvent): Trace {
  const e = event as {
    event_id?: string;
    correlation_id?: string;
    data?: { event_id?: string; correlation_id?: string };
  };
  return {
    correlationId: e.data?.correlation_id ?? e.correlation_id ?? '',
    causationId: e.data?.event_id ?? e.event_id ?? '',
  };
}
