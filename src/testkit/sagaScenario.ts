/**
 * Given/when/then for sagas, on the real saga engine with a virtual clock and an in-memory stream:
 *
 *   sagaScenario(decommission)
 *     .given(registered('r1'), connected('r1', 'r2'))
 *     .when(removed('r1'))
 *     .advance('5m')
 *     .expectCommands([{ type: 'SeverConnection', ... }, { type: 'ReportStuckDecommission', ... }])
 *     .expectFinished('r1');
 *
 * Steps run at once, in order; each `expect*` checks what `when` and `advance` caused since the last
 * `given` and throws an AssertionError that says what differs.
 */
import { AssertionError, deepStrictEqual } from 'node:assert/strict';
import {
  createInstanceTimerReader,
  createOutboxReader,
  createSagaEngine,
  createSagaInstanceView,
  openDatabase,
  type ProsaEvent,
  parseDuration,
  type RawEvent,
  type SagaCommand,
  type SagaDefinition,
  type SagaEngine,
  type SqliteDatabase,
} from '../internal.js';

/** An event as it sits on the stream: what `encodeInfrastructureEvent` returns. */
export interface WireEvent {
  readonly subject: string;
  readonly data: Uint8Array;
}

/** A command as a scenario expects it. `aggregateId` is checked only when given. */
export interface ExpectedCommand {
  type: string;
  data: unknown;
  aggregateId?: string;
}

export interface SagaScenarioOptions {
  /** Timeout durations by name, over the saga's defaults (e.g. `{ stuck: '3s' }`). */
  timeouts?: Record<string, string>;
  /** The virtual clock's start. @default 2025-01-01T00:00:00Z */
  startAt?: number;
}

export interface SagaScenario {
  /** Events that happened before: their commands are not the scenario's subject. */
  given(...events: WireEvent[]): SagaScenario;
  when(...events: WireEvent[]): SagaScenario;
  /** Moves the virtual clock, firing timers that come due, in due order. */
  advance(duration: string | number): SagaScenario;
  /** The worker crashes and restarts: everything in memory is lost, SQLite remains. */
  restart(): SagaScenario;
  /** The commands caused since the last `given`, in order, equal these (type, data, and aggregateId if given). */
  expectCommands(expected: readonly ExpectedCommand[]): SagaScenario;
  /** The instance has finished (and is no longer live). */
  expectFinished(instance?: string): SagaScenario;
  /** The instance is live. */
  expectActive(instance: string): SagaScenario;
  /** The instance's pending timeouts, by name, with their due times as offsets from now. */
  expectTimeouts(instance: string, expected: Record<string, string | number>): SagaScenario;
  /** The commands caused since the last `given`. */
  readonly commands: SagaCommand[];
  readonly now: number;
  readonly db: SqliteDatabase;
}

export function sagaScenario<E extends ProsaEvent>(
  saga: SagaDefinition<E, string, string>,
  options: SagaScenarioOptions = {},
): SagaScenario {
  const definition = saga as unknown as SagaDefinition<ProsaEvent, string, string>;
  const db = openDatabase(':memory:');
  let now = options.startAt ?? Date.UTC(2025, 0, 1);
  const timeouts: Record<string, number> = {};
  for (const [name, text] of Object.entries(options.timeouts ?? {})) {
    const ms = parseDuration(text);
    if (ms === undefined) throw new Error(`timeouts.${name}: expected a duration like "5m", got ${text}`);
    timeouts[name] = ms;
  }
  const start = (): SagaEngine => createSagaEngine(definition, db, { clock: { now: () => now }, timeouts });
  let engine = start();
  let seq = 0;
  // What `given` caused counts as published, as the dispatcher would have done; what is still
  // pending is what the scenario caused since (the clock only moves forward, so in emission order).
  const outbox = createOutboxReader(db);
  const all = Number.MAX_SAFE_INTEGER;
  const instances = createSagaInstanceView(db);
  const pendingTimers = createInstanceTimerReader(db);

  const apply = (events: WireEvent[]) => {
    for (const e of events) {
      const raw: RawEvent = { subject: e.subject, seq: ++seq, data: e.data };
      const result = engine.applyBatch([raw]);
      const dead = result.deadLetters[0] ?? result.stoppedAt;
      if (dead) throw new Error(`event ${seq} on ${e.subject} was dead-lettered: ${dead.reason}`);
    }
  };
  const commands = (): SagaCommand[] =>
    outbox.pending(saga.name, all).map((r) => JSON.parse(r.body) as SagaCommand);

  const scenario: SagaScenario = {
    given(...events) {
      apply(events);
      outbox.markPublished(outbox.pending(saga.name, all), now);
      return scenario;
    },
    when(...events) {
      apply(events);
      return scenario;
    },
    advance(duration) {
      const ms = parseDuration(duration);
      if (ms === undefined) throw new Error(`advance: expected a duration like "5m", got ${duration}`);
      const target = now + ms;
      for (;;) {
        const next = engine.nextTimeoutAt();
        if (next === undefined || next > target) break;
        now = Math.max(now, next);
        engine.fireDueTimers();
      }
      now = target;
      return scenario;
    },
    restart() {
      engine.close();
      engine = start();
      return scenario;
    },
    expectCommands(expected) {
      const got = commands().map((c) => ({
        type: c.command_type,
        data: c.data,
        ...(expected.some((e) => e.aggregateId !== undefined) ? { aggregateId: c.aggregate_id } : {}),
      }));
      const want = expected.map((e) => ({
        type: e.type,
        data: e.data,
        ...(e.aggregateId !== undefined ? { aggregateId: e.aggregateId } : {}),
      }));
      deepStrictEqual(got, want, `${saga.name}: the commands emitted differ from the expected ones`);
      return scenario;
    },
    expectFinished(id) {
      const count = instances.finishedCount(saga.name, id ?? null);
      if (count === 0) {
        const state = id ? instances.state(saga.name, id) : undefined;
        throw new AssertionError({
          message: `${saga.name}: expected instance ${id ?? '(any)'} to have finished, but it is ${state ? `live in state ${state}` : 'not started or not finished'}`,
        });
      }
      if (id && instances.state(saga.name, id) !== undefined) {
        throw new AssertionError({
          message: `${saga.name}: instance ${id} finished but a new one is live (${instances.state(saga.name, id)})`,
        });
      }
      return scenario;
    },
    expectActive(id) {
      if (instances.state(saga.name, id) === undefined)
        throw new AssertionError({
          message: `${saga.name}: expected instance ${id} to be live, but there is none`,
        });
      return scenario;
    },
    expectTimeouts(id, expected) {
      const got = Object.fromEntries(pendingTimers(saga.name, id).map((t) => [t.name, t.dueAt - now]));
      const want = Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, parseDuration(v)]));
      deepStrictEqual(got, want, `${saga.name}: pending timeouts of ${id} (ms from now) differ`);
      return scenario;
    },
    get commands() {
      return commands();
    },
    get now() {
      return now;
    },
    db,
  };
  return scenario;
}
