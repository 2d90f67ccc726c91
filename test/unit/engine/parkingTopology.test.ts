// Issue 14: a ResourceUpdated of k1 whose capabilities.cpu_cores is "many" is dead-lettered, and
// k1's later updates wait behind it (other resources go on); a NetworkTopologyDefined of a parked
// connection waits and parks its other entities; after a skip, everything applies in order.
import { describe, expect, it } from 'vitest';
import topology from '../../../projections/topology.js';
import { decodeInfrastructureEvent } from '../../../src/cim/infrastructure.js';
import type { RawEvent } from '../../../src/define/projection.js';
import { createProjectionEngine } from '../../../src/engine/projectionEngine.js';
import { InvalidEventError } from '../../../src/errors.js';
import { openDatabase, type SqliteDatabase } from '../../../src/store/database.js';
import { listWaitingSeqs } from '../../../src/store/waiting.js';
import {
  badCoresUpdated,
  connected,
  hostnameUpdated,
  registered,
  severed,
  topologyDefined,
} from '../../support/infrastructureEvents.js';

const numbered = (events: { subject: string; data: Uint8Array }[], first = 1): RawEvent[] =>
  events.map((e, i) => ({ seq: first + i, subject: e.subject, data: e.data }));
const hostnames = (db: SqliteDatabase) =>
  db.prepare('SELECT id, hostname FROM compute_resources ORDER BY id').all();

describe('the topology around a bad ResourceUpdated', () => {
  it('the decoder names the resource of an update whose payload is bad, and keeps the message', () => {
    const [msg] = numbered([badCoresUpdated('k1')]);
    let error: unknown;
    try {
      decodeInfrastructureEvent(msg as RawEvent);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as Error).message).toBe(
      'data.ResourceUpdated.updates.capabilities.cpu_cores: expected a non-negative integer or null, got "many"',
    );
    expect(topology.keys((error as InvalidEventError).partialEvent as never)).toEqual([['resource', 'k1']]);
  });

  it("k1's later updates wait behind its dead letter, k2 goes on, and a skip applies them in order", () => {
    const db = openDatabase(':memory:');
    const engine = createProjectionEngine(topology, db);
    const result = engine.applyBatch(
      numbered([
        registered('k1'),
        registered('k2'),
        badCoresUpdated('k1'),
        hostnameUpdated('k1', 'first'),
        hostnameUpdated('k2', 'two'),
        hostnameUpdated('k1', 'second'),
      ]),
    );
    expect(result.deadLetters.map((d) => d.seq)).toEqual([3]);
    expect(result.waited).toBe(2);
    expect(hostnames(db)).toEqual([
      { id: 'k1', hostname: 'k1' },
      { id: 'k2', hostname: 'two' },
    ]);
    expect(engine.skipDeadLetter(3, () => {})).toEqual({ applied: 2, deadLettered: 0 });
    expect(hostnames(db)).toEqual([
      { id: 'k1', hostname: 'second' },
      { id: 'k2', hostname: 'two' },
    ]);
  });

  it('a topology of a parked connection waits, and its other connections wait behind it', () => {
    const db = openDatabase(':memory:');
    const engine = createProjectionEngine(topology, db);
    const c1 = connected('a', 'b');
    const body = JSON.parse(new TextDecoder().decode(c1.data));
    body.data.ResourcesConnected.connection.from_interface = 'eth0';
    body.data.ResourcesConnected.event_id = 'not a uuid';
    const bad = { subject: c1.subject, data: new TextEncoder().encode(JSON.stringify(body)) };
    engine.applyBatch(
      numbered([bad, topologyDefined(['a', 'b'], ['c', 'd']), severed('c', 'd'), connected('e', 'f')]),
    );
    expect(listWaitingSeqs(db, 'topology')).toEqual([2, 3]);
    expect(db.prepare('SELECT count(*) FROM connections').pluck().get()).toBe(1);
  });
});
