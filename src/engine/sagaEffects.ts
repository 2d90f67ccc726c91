/**
 * The effect sink a saga instance's actions write to during a send: commands become outbox entries
 * and timers become timer operations, both filed with the engine's current batch.
 *
 * Ids are deterministic, so a replay after a crash files the same ones: a command's id is a UUID v5
 * of (saga, instance, cause, index), where the cause is the event's stream sequence or the timer's
 * id; a timer's id is a UUID v5 of (saga, instance, name, cause).
 */
import { v5 as uuidv5 } from 'uuid';
import type { EffectSink, Trace } from '../define/saga.js';

/** UUID v5 namespace of prosa's deterministic ids. */
export const PROSA_NAMESPACE = '4f1d6c1e-8a43-5c36-9d0f-7c2b9a7e5d10';

export interface SagaCommand {
  command_id: string;
  command_type: string;
  aggregate_id: string;
  correlation_id: string;
  causation_id: string;
  timestamp: string;
  data: unknown;
}

/** A pending timer as its instance sees it; `state` is '' until the send that started it settles. */
export interface TimerView {
  timerId: string;
  state: string;
}

export type TimerOp =
  | {
      op: 'start';
      instance: string;
      name: string;
      timerId: string;
      dueAt: number;
      state: string;
      correlationId: string;
    }
  | { op: 'cancel' | 'fired'; instance: string; name: string; timerId: string };

/** A command on its way to the outbox. */
export interface OutboxEntry {
  id: string;
  instance: string;
  subject: string;
  body: string;
}

/** The send in progress: which instance, what caused it, and what it has done so far. */
export interface SendContext {
  instance: string;
  cause: string;
  trace: Trace;
  /** The next command's index within this send. */
  index: number;
  /** Timers started by this send (their state is filled in once the send settles). */
  started: TimerOp[];
  /** The instance's pending timers, by name. */
  timers: Map<string, TimerView>;
}

export interface SagaEffectsOptions {
  saga: string;
  /** Subject of each command type the saga declares. */
  commands: Readonly<Record<string, string>>;
  /** Timeout durations in ms, by name. */
  durations: ReadonlyMap<string, number>;
  now: () => number;
}

/** Where the sink files effects: the engine's current send and batch. */
export interface SagaEffectsTarget {
  /** The send in progress; throws outside one. */
  context(): SendContext;
  addCommand(entry: OutboxEntry): void;
  addTimerOp(op: TimerOp): void;
}

export function createSagaEffectSink(options: SagaEffectsOptions, target: SagaEffectsTarget): EffectSink {
  const { saga, commands, durations, now } = options;
  return {
    emitCommand: (p) => {
      const ctx = target.context();
      const subject = commands[p.type];
      if (!subject) throw new Error(`unknown command type "${p.type}"; declare it in the saga's commands`);
      const id = uuidv5(`${saga}\n${ctx.instance}\n${ctx.cause}\n${ctx.index++}`, PROSA_NAMESPACE);
      const command: SagaCommand = {
        command_id: id,
        command_type: p.type,
        aggregate_id: p.aggregateId,
        correlation_id: ctx.trace.correlationId,
        causation_id: ctx.trace.causationId,
        timestamp: new Date(now()).toISOString(),
        data: p.data,
      };
      target.addCommand({ id, instance: ctx.instance, subject, body: JSON.stringify(command) });
    },
    startTimeout: (p) => {
      const ctx = target.context();
      const ms = durations.get(p.name);
      if (ms === undefined) throw new Error(`unknown timeout "${p.name}"; declare it in the saga's timeouts`);
      const timerId = uuidv5(`${saga}\n${ctx.instance}\n${p.name}\n${ctx.cause}`, PROSA_NAMESPACE);
      const op: TimerOp = {
        op: 'start',
        instance: ctx.instance,
        name: p.name,
        timerId,
        dueAt: now() + ms,
        state: '',
        correlationId: ctx.trace.correlationId,
      };
      target.addTimerOp(op);
      ctx.started.push(op);
      ctx.timers.set(p.name, { timerId, state: '' });
    },
    cancelTimeout: (p) => {
      const ctx = target.context();
      const view = ctx.timers.get(p.name);
      if (!view) return;
      ctx.timers.delete(p.name);
      target.addTimerOp({ op: 'cancel', instance: ctx.instance, name: p.name, timerId: view.timerId });
    },
  };
}
