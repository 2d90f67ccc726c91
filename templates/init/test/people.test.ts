// The proof of the people projection: under any batching, redelivery, crash point and passivation
// the real engine gives the rows of one clean pass, and the rows of a plain loop written from the
// rules (the reference), not from the machine.

import { checkProjection } from 'prosa/testkit';
import { describe, it } from 'vitest';
import people from '../projections/people.js';
import { personEvents, referencePeople } from './peopleProof.js';

describe('people projection', () => {
  it('gives the rows of one clean pass and of the reference, however the events are delivered', () =>
    checkProjection(people, {
      events: personEvents(),
      reference: referencePeople,
      allowDeadLetters: false,
      numRuns: 100,
    }));
});
