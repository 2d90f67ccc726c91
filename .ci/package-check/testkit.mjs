// prosa/testkit and prosa/cim from plain JavaScript: the tally projection proved by checkProjection,
// and the CIM pieces a CIM project's config names.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeInfrastructureEvent, decommission, provisioning, topology } from 'prosa/cim';
import { checkProjection } from 'prosa/testkit';
import { tallies } from './runtime.config.mjs';

const event = fc
  .record({ id: fc.constantFrom('a', 'b', 'c'), amount: fc.integer({ min: 1, max: 9 }) })
  .map((e) => ({ subject: `tally.${e.id}`, data: new TextEncoder().encode(JSON.stringify(e)) }));

await checkProjection(tallies, {
  events: fc.array(event, { maxLength: 20 }),
  allowDeadLetters: false,
  numRuns: 50,
  reference: (events) => {
    const rows = new Map();
    for (const e of events) {
      const row = rows.get(e.id) ?? { id: e.id, total: 0, events: 0 };
      rows.set(e.id, { ...row, total: row.total + e.amount, events: row.events + 1 });
    }
    return { tallies: rows };
  },
});
console.log('checkProjection ok (prosa/testkit from JavaScript)');

assert.equal(topology.name, 'topology');
assert.deepEqual([decommission.name, provisioning.name], ['decommission', 'provisioning']);
assert.equal(typeof decodeInfrastructureEvent, 'function');
console.log('prosa/cim ok');
