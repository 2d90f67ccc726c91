import { describe, it } from 'vitest';
import topology from '../../projections/topology.js';
import { arbitraries, checkProjection } from '../../src/testkit/index.js';
import { referenceTopology } from '../support/referenceTopology.js';

describe('topology projection on the engine', () => {
  describe('when plausible CIM event streams are replayed under any batching, redelivery, crash point and passivation pressure', () => {
    it('gives the six tables of one clean pass and of the reference fold, with no dead letters', () =>
      checkProjection(topology, {
        events: arbitraries.cim.infrastructureEvents({ events: 60 }),
        reference: (events) => ({ ...referenceTopology(events) }),
        allowDeadLetters: false,
        maxActors: 8,
        numRuns: 200,
      }));
  });
});
