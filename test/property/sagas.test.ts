import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import decommission from '../../sagas/decommission.js';
import provisioning from '../../sagas/provisioning.js';
import type { InfrastructureEvent } from '../../src/cim/infrastructure.js';
import type { RawEvent } from '../../src/define/projection.js';
import type { SagaDefinition } from '../../src/define/saga.js';
import { type ClockAdvance, replaySaga, type SagaDeliveryStep } from '../../src/testkit/sagaReplay.js';
import { infrastructureEventSequence } from '../support/cimEvents.js';
import {
  connected,
  interfaceAdded,
  registered,
  removed,
  severed,
  topologyDefined,
} from '../support/infrastructureEvents.js';

const step: fc.Arbitrary<SagaDeliveryStep> = fc.oneof(
  fc.record({
    kind: fc.constant('batch' as const),
    size: fc.integer({ min: 1, max: 8 }),
    redeliver: fc.integer({ min: 0, max: 4 }),
  }),
  fc.record({ kind: fc.constant('crash-before-commit' as const), size: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('crash-after-commit' as const), size: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('publish' as const), count: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ kind: fc.constant('crash-after-publish' as const), count: fc.integer({ min: 1, max: 6 }) }),
  fc.constant({ kind: 'passivate' as const }),
);

/**
 * Saga-dense event sequences over three resources: the lifecycles both sagas care about. Generated
 * as readable descriptors (a shrunk counterexample reads `["removed","r1"]`) and encoded in the property.
 */
type Described =
  | ['registered' | 'removed', string]
  | ['connected' | 'severed', string, string]
  | ['topology', [string, string][]]
  | ['interface', string, string | null];
const resource = fc.constantFrom('r1', 'r2', 'r3');
const pair = fc.tuple(resource, resource).filter(([a, b]) => a !== b);
const described: fc.Arbitrary<Described[]> = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: resource.map((r): Described => ['registered', r]) },
      { weight: 3, arbitrary: pair.map(([a, b]): Described => ['connected', a, b]) },
      {
        weight: 1,
        arbitrary: fc.array(pair, { minLength: 1, maxLength: 3 }).map((ps): Described => ['topology', ps]),
      },
      { weight: 2, arbitrary: pair.map(([a, b]): Described => ['severed', a, b]) },
      { weight: 2, arbitrary: resource.map((r): Described => ['removed', r]) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(resource, fc.constantFrom('lan', null))
          .map(([r, n]): Described => ['interface', r, n]),
      },
    ),
    { minLength: 3, maxLength: 40 },
  )
  // Most runs register every resource first, so connections, removals and timeouts meet live instances.
  .chain((events) =>
    fc
      .boolean()
      .map((prefix) =>
        prefix ? [...['r1', 'r2', 'r3'].map((r): Described => ['registered', r]), ...events] : events,
      ),
  );

function encode(events: readonly Described[]): RawEvent[] {
  return events.map((d, i) => {
    const wire =
      d[0] === 'registered'
        ? registered(d[1])
        : d[0] === 'removed'
          ? removed(d[1])
          : d[0] === 'connected'
            ? connected(d[1], d[2])
            : d[0] === 'severed'
              ? severed(d[1], d[2])
              : d[0] === 'topology'
                ? topologyDefined(...d[1])
                : interfaceAdded(d[1], d[2] ?? null);
    return { subject: wire.subject, data: wire.data, seq: i + 1 };
  });
}

/** Events (saga-dense, or the general CIM mix), clock moves between them (some past the timeouts), and a faulty delivery plan. */
const scenario = fc
  .tuple(
    fc.oneof(
      {
        weight: 3,
        arbitrary: described.map((d) => ({
          described: d as Described[] | undefined,
          wire: undefined as RawEvent[] | undefined,
        })),
      },
      {
        weight: 1,
        arbitrary: infrastructureEventSequence({
          maxEvents: 40,
          resources: 4,
          networks: 2,
          interfaces: 2,
        }).map((w) => ({ described: undefined, wire: w })),
      },
    ),
    fc.array(step, { maxLength: 30 }),
    fc.integer({ min: 1, max: 4 }),
  )
  .chain(([events, steps, maxActors]) =>
    fc
      .array(
        fc.record({
          at: fc.integer({ min: 0, max: Math.max(0, (events.described ?? events.wire ?? []).length) }),
          ms: fc.constantFrom(1_000, 60_000, 5 * 60_000, 15 * 60_000, 3_600_000),
        }),
        { maxLength: 6 },
      )
      .map((moves) => ({
        events,
        steps,
        maxActors,
        advances: moves.map((m): ClockAdvance => ({ afterSeq: m.at, ms: m.ms })),
      })),
  );

const sorted = (m: Map<string, string>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));

function checkAgainstCleanPass(
  saga: SagaDefinition<InfrastructureEvent, string, string>,
  events: RawEvent[],
  advances: ClockAdvance[],
  steps: SagaDeliveryStep[],
  maxActors: number,
) {
  const clean = replaySaga(saga, events, advances, { steps: [] });
  const faulted = replaySaga(saga, events, advances, { steps, maxActors });
  // The COMMANDS stream holds the same commands, each once, byte for byte.
  expect(sorted(faulted.published)).toEqual(sorted(clean.published));
  // Every timer ended the same way (fired or cancelled), none left pending.
  expect(sorted(faulted.timers)).toEqual(sorted(clean.timers));
  expect([...faulted.timers.values()].filter((s) => s === 'pending')).toEqual(
    [...clean.timers.values()].filter((s) => s === 'pending'),
  );
  expect(faulted.checkpoint).toBe(events.length);
}

describe('sagas under faults', () => {
  for (const saga of [decommission, provisioning]) {
    describe(`the ${saga.name} saga`, () => {
      test.prop([scenario], { numRuns: 150 })(
        'any batching, redelivery, crash point (also between commit, publish and mark-done) and passivation emits the commands of a clean pass, each once',
        ({ events, steps, maxActors, advances }) => {
          const wire = events.wire ?? encode(events.described ?? []);
          checkAgainstCleanPass(saga, wire, advances, steps, maxActors);
        },
      );
    });
  }
});
