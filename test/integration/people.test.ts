// The tutorial projection of the README (what `prosa init` writes: templates/init/), proven here
// harder than a new project's own `npm test` does: more runs, and through a real nats-server with
// the runtime restarting.
import { checkProjection } from 'prosa/testkit';
import { describe, it } from 'vitest';
import people from '../../templates/init/projections/people.js';
import { personEvents, referencePeople } from '../../templates/init/test/peopleProof.js';

describe('people projection', () => {
  describe('when person events are replayed with any batching, redelivery, crash and passivation', () => {
    it('gives the rows of one clean pass and of the reference', () =>
      checkProjection(people, {
        events: personEvents(),
        reference: referencePeople,
        allowDeadLetters: false,
        numRuns: 300,
      }));
  });

  describe('when the events go through a real nats-server and the runtime restarts', () => {
    it('gives the same rows', () =>
      checkProjection(people, {
        events: personEvents(),
        reference: referencePeople,
        allowDeadLetters: false,
        numRuns: 5,
        nats: { startServer: true },
      }));
  });
});
