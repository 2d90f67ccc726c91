import { describe, expect, it } from 'vitest';
import topology from '../../projections/topology.js';
import { arbitraries, checkProjection, ProjectionCheckError } from '../../src/testkit/index.js';
import { ledgerStream } from '../support/fixtures/broken/accounts.js';
import { crossKeyLedger } from '../support/fixtures/broken/crossKeyRow.js';
import { moduleStateLedger } from '../support/fixtures/broken/moduleState.js';
import { randomLedger, wallClockLedger } from '../support/fixtures/broken/nondeterministic.js';
import { unserializableContextLedger } from '../support/fixtures/broken/unserializableContext.js';
import { type LedgerEvent, ledger, ledgerMessages } from '../support/fixtures/ledger.js';
import { referenceTopology } from '../support/referenceTopology.js';

/** The error a check throws, or a failed test if it passes. */
function failureOf(check: () => void): ProjectionCheckError {
  try {
    check();
  } catch (e) {
    if (e instanceof ProjectionCheckError) return e;
    throw e;
  }
  throw new Error('expected checkProjection to fail, and it passed');
}

describe('checkProjection', () => {
  describe('when the projection keeps all its state in its actors', () => {
    it('passes the ledger fixture', () => {
      checkProjection(ledger, { events: ledgerStream(), numRuns: 200 });
    });
  });

  describe('when a fold keeps state in a module-level variable', () => {
    it('fails with a crash before a commit that applies events twice, and says so', () => {
      // It takes a crash before a commit after an event that moves the cache: found in most runs of 100.
      const error = failureOf(() =>
        checkProjection(moduleStateLedger, { events: ledgerStream(), numRuns: 500 }),
      );
      expect(error.message).toContain(
        'checkProjection(ledger_module_cache): replaying under the schedule below (batches, redeliveries, crashes, passivation) gives another read model than one clean pass.',
      );
      expect(error.message).toMatch(/#1 +Opened +account [a-e]\n/);
      expect(error.message).toContain(
        'then the worker crashes before the commit and restarts from checkpoint',
      );
      expect(error.message).toMatch(/accounts "[a-e]": balance: expected -?\d+, got -?\d+/);
      expect(error.message).toContain('state kept outside the actor (a module-level variable or cache)');
      expect(error.events.length).toBeLessThanOrEqual(3);
    });
  });

  describe('when a machine keeps a Set in its context, which its snapshot cannot hold', () => {
    it('fails once the actor is passivated or restarted, with the lost state and the dead letter', () => {
      const error = failureOf(() =>
        checkProjection(unserializableContextLedger, { events: ledgerStream({ accounts: 3 }) }),
      );
      expect(error.message).toContain(
        'checkProjection(ledger_with_a_set): replaying under the schedule below',
      );
      expect(error.message).toMatch(
        /capped at \d+ for \d+ entities, so actors are passivated and restored|passivate every live actor|the worker crashes/,
      );
      // The lost Set shows as a wrong column, or, when the next event reads it, as that event's dead letter.
      expect(error.message).toMatch(
        /accounts "[a-c]": counterparties: expected "[a-c ]+", got "[a-c ]*"|dead-lettered \(applying \w+ to account [a-c] failed: context\.counterparties is not iterable\)/,
      );
      expect(error.message).toContain('a Map, Set, class instance or closure in the context is lost');
      // Three or four events suffice; the shrinker stops at five for about one seed in 300.
      expect(error.events.length).toBeLessThanOrEqual(5);
    });
  });

  describe("when a row reads another entity's state (the order of different keys)", () => {
    // It takes a transfer, then a later change of the payer's balance in another batch: rare
    // among random events, hence the runs.
    it('fails when a commit falls between the two, and names the column', () => {
      const error = failureOf(() =>
        checkProjection(crossKeyLedger, { events: ledgerStream({ accounts: 3 }), numRuns: 1_500 }),
      );
      expect(error.message).toContain(
        'checkProjection(ledger_payer_balance): replaying under the schedule below',
      );
      expect(error.message).toMatch(/#\d +Transferred +account [a-c], account [a-c] +\{"amount":\d\}/);
      expect(error.message).toMatch(/accounts "[a-c]": payer_balance: expected -?\d+, got -?\d+/);
      expect(error.message).toContain("a row that reads more than its own actor's snapshot");
      // Four events suffice; ignored events no longer rewrite rows, so the shrinker sometimes stops at five.
      expect(error.events.length).toBeLessThanOrEqual(5);
    });
  });

  describe('when a fold reads the wall clock', () => {
    it('fails with a single event and says the fold is not a function of its events', () => {
      const error = failureOf(() => checkProjection(wallClockLedger, { events: ledgerStream() }));
      expect(error.message).toContain(
        'checkProjection(ledger_wall_clock): two clean passes over the same events give different read models; the fold is not a function of its events.',
      );
      expect(error.message).toMatch(/#1 +Opened +account [a-e]\n/);
      expect(error.message).toMatch(/accounts "[a-e]": updated_at: expected "20\d\d-.+Z", got "20\d\d-.+Z"/);
      expect(error.message).toContain('the fold reads the wall clock (Date.now(), new Date())');
      expect(error.events).toHaveLength(1);
    });
  });

  describe('when a fold uses Math.random', () => {
    it('fails with the deposit whose receipt differs', () => {
      const error = failureOf(() => checkProjection(randomLedger, { events: ledgerStream() }));
      expect(error.message).toContain('checkProjection(ledger_random_receipts): two clean passes');
      expect(error.message).toMatch(/#2 +Deposited +account [a-e] +\{"amount":\d\}/);
      expect(error.message).toMatch(/last_receipt: expected "R-\w+", got "R-\w+"/);
      expect(error.events).toHaveLength(2);
    });
  });

  describe('when the reference fold disagrees with the projection', () => {
    // This reference forgets transfers and closed accounts.
    const sloppy = (events: readonly LedgerEvent[]) => {
      const balances = new Map<string, { id: string; balance: number }>();
      for (const e of events) {
        if (e.type === 'Opened' && !balances.has(e.account))
          balances.set(e.account, { id: e.account, balance: 0 });
        const row = balances.get(e.account);
        if (e.type === 'Deposited' && row) row.balance += e.amount;
      }
      return { accounts: balances };
    };
    it('fails naming the reference as the expectation', () => {
      const error = failureOf(() =>
        checkProjection(ledger, { events: ledgerStream({ accounts: 2 }), reference: sloppy, numRuns: 500 }),
      );
      expect(error.message).toContain(
        'checkProjection(ledger): a clean pass gives another read model than your reference fold.',
      );
      expect(error.message).toContain('What differs (expected: your reference; got: the clean pass):');
      expect(error.message).toMatch(/accounts "[ab]": balance: expected -?\d+, got -?\d+/);
    });
  });

  describe('when allowDeadLetters is false and an event does not decode', () => {
    it('fails with the reason the decoder gave', () => {
      const error = failureOf(() =>
        checkProjection(ledger, {
          events: ledgerStream({ maxEvents: 3 }).map((ms) => [
            ...ms,
            ...ledgerMessages(['not json'], ms.length + 1),
          ]),
          allowDeadLetters: false,
          numRuns: 20,
        }),
      );
      expect(error.message).toContain('a clean pass dead-lettered events, and allowDeadLetters is false.');
      expect(error.message).toMatch(/#1 +\(does not decode: body is not JSON\) on ledger\.raw/);
      expect(error.message).toContain('#1: applied expected, got dead-lettered (body is not JSON)');
    });
  });

  describe('when it is used wrongly', () => {
    it('says so when the stream sequences go backwards', () => {
      const [first, second] = ledgerMessages([
        { type: 'Opened', account: 'a' },
        { type: 'Opened', account: 'b' },
      ]);
      expect(() =>
        checkProjection(ledger, {
          events: arbitraries.uuidV7().map(() => [second!, first!]),
          numRuns: 1,
        }),
      ).toThrow(
        'checkProjection: events[1] has stream sequence 1 after 2; sequences must be positive integers and ascending',
      );
    });
    it('says so when the reference returns a table the projection does not have', () => {
      expect(() =>
        checkProjection(ledger, { events: ledgerStream(), reference: () => ({ balances: [] }), numRuns: 1 }),
      ).toThrow(
        'checkProjection: the reference returned table "balances", which is not a table of ledger\'s entities (accounts)',
      );
    });
  });

  // End to end: a real nats-server started for the check, the real runtime restarted at arbitrary
  // points with arbitrary batch sizes and actor caps.
  describe('when run against a real nats-server', () => {
    it('passes the ledger fixture', async () => {
      await checkProjection(ledger, { events: ledgerStream(), numRuns: 5, nats: { startServer: true } });
    });
    it('passes the topology projection against its reference', async () => {
      await checkProjection(topology, {
        events: arbitraries.cim.infrastructureEvents({ events: 30 }),
        reference: (events) => ({ ...referenceTopology(events) }),
        allowDeadLetters: false,
        numRuns: 4,
        nats: { startServer: true },
      });
    });
    it('catches the Set in the context when actors are capped at 1', async () => {
      const check = checkProjection(unserializableContextLedger, {
        events: ledgerStream({ accounts: 2 }),
        maxActors: 1,
        numRuns: 20,
        nats: { startServer: true },
      });
      await expect(check).rejects.toThrow(
        /Schedule \(real nats-server and runtime\):\n {2}1\. start the runtime/,
      );
    });
  });
});
