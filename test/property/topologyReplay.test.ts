import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import topology from '../../projections/topology.js';
import { decodeInfrastructureEvent } from '../../src/cim/infrastructure.js';
import { type DeliveryStep, replay } from '../../src/testkit/replay.js';
import { infrastructureEventSequence } from '../support/cimEvents.js';
import { readTopology, referenceTopology } from '../support/referenceTopology.js';

const step: fc.Arbitrary<DeliveryStep> = fc.oneof(
  fc.record({
    kind: fc.constant('batch' as const),
    size: fc.integer({ min: 1, max: 10 }),
    redeliver: fc.integer({ min: 0, max: 6 }),
  }),
  fc.record({ kind: fc.constant('crash-before-commit' as const), size: fc.integer({ min: 1, max: 10 }) }),
  fc.record({ kind: fc.constant('crash-after-commit' as const), size: fc.integer({ min: 1, max: 10 }) }),
  fc.constant({ kind: 'passivate' as const }),
);

describe('topology projection on the engine', () => {
  test.prop(
    [
      infrastructureEventSequence({ maxEvents: 60 }),
      fc.array(step, { maxLength: 30 }),
      fc.integer({ min: 1, max: 8 }),
    ],
    { numRuns: 200 },
  )(
    'any batching, redelivery, crash point and passivation pressure gives the reference fold',
    (events, steps, maxActors) => {
      const result = replay(topology, events, { steps, maxActors });
      expect(result.deadLetters).toEqual([]);
      expect(readTopology(result.db)).toEqual(referenceTopology(events.map(decodeInfrastructureEvent)));
    },
  );
});
