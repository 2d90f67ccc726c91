import { fc, test } from '@fast-check/vitest';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { type AnyActorRef, type AnyMachineSnapshot, createActor } from 'xstate';
import { NO_ROW } from '../../machines/topology.js';
import topology from '../../projections/topology.js';
import { decodeInfrastructureEvent, type InfrastructureEvent } from '../../src/cim/infrastructure.js';
import type { RawEvent } from '../../src/define/projection.js';
import { infrastructureEventSequence, seedInfrastructureEvents } from '../support/cimEvents.js';
import { readTopology, referenceTopology, type TopologyTables } from '../support/referenceTopology.js';

/**
 * The machines' rows, stored and read back as SQLite holds them: each event goes to the actor of
 * every key `topology.keys` gives, in stream order; `passivateAt` lists event indexes after which
 * every actor is persisted (JSON) and restored, as the engine does under passivation pressure.
 * Rows are written into the projection's real schema (objects and arrays as JSON text, booleans
 * as 0/1, as the engine writes them) and read back with `readTopology`.
 */
function machineTopology(
  events: readonly InfrastructureEvent[],
  passivateAt: ReadonlySet<number> = new Set(),
) {
  const actors = new Map<string, { kind: string; id: string; actor: AnyActorRef }>();
  const actorFor = (kind: keyof typeof topology.entities, id: string) => {
    const slot = `${kind}\u0000${id}`;
    let hosted = actors.get(slot);
    if (!hosted) {
      hosted = { kind, id, actor: createActor(topology.entities[kind].machine, { input: { id } }).start() };
      actors.set(slot, hosted);
    }
    return hosted.actor;
  };
  events.forEach((e, index) => {
    for (const [kind, id] of topology.keys(e)) actorFor(kind, id).send(e);
    if (passivateAt.has(index)) {
      for (const hosted of actors.values()) {
        const persisted = JSON.parse(JSON.stringify(hosted.actor.getPersistedSnapshot()));
        hosted.actor.stop();
        const machine = topology.entities[hosted.kind as keyof typeof topology.entities].machine;
        hosted.actor = createActor(machine, { input: { id: hosted.id }, snapshot: persisted }).start();
      }
    }
  });

  const db = new Database(':memory:');
  for (const sql of topology.schema.migrations) db.exec(sql);
  for (const { kind, actor } of actors.values()) {
    const snapshot = actor.getSnapshot() as AnyMachineSnapshot;
    if (snapshot.status === 'error') throw snapshot.error;
    if (snapshot.hasTag(NO_ROW)) continue;
    const table = topology.entities[kind as keyof typeof topology.entities].table;
    const row = snapshot.context as Record<string, unknown>;
    const columns = Object.keys(row);
    db.prepare(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    ).run(columns.map((c) => sqlValue(row[c])));
  }
  const tables = readTopology(db);
  db.close();
  return tables;
}

const sqlValue = (v: unknown) =>
  v === undefined || v === null
    ? null
    : typeof v === 'boolean'
      ? Number(v)
      : typeof v === 'object'
        ? JSON.stringify(v)
        : (v as string | number);

/** The events in words, for a counterexample a person can read. */
const describeEvents = (events: readonly InfrastructureEvent[], max = 80): string =>
  events
    .slice(0, max)
    .map(
      (e, i) =>
        `  ${i + 1}. ${e.timestamp} ${e.type} ${topology
          .keys(e)
          .map(([k, id]) => `${k}:${id}`)
          .join(' ')}`,
    )
    .concat(events.length > max ? [`  ... and ${events.length - max} more`] : [])
    .join('\n');

function expectSameTables(
  actual: TopologyTables,
  expected: TopologyTables,
  events: readonly InfrastructureEvent[],
) {
  try {
    expect(actual).toEqual(expected);
  } catch (e) {
    throw new Error(
      `machines and reference differ after:\n${describeEvents(events)}\n${(e as Error).message}`,
    );
  }
}

const decodeAll = (raws: readonly RawEvent[]) => raws.map(decodeInfrastructureEvent);

describe('topology machines against the reference fold', () => {
  describe('when any plausible sequence of CIM events is applied per key in stream order', () => {
    test.prop([infrastructureEventSequence({ maxEvents: 60 })], { numRuns: 300 })(
      'give the same six tables as the reference',
      (raws) => {
        const events = decodeAll(raws);
        expectSameTables(machineTopology(events), referenceTopology(events), events);
      },
    );
  });

  describe('when the actors are passivated and restored from persisted snapshots between events', () => {
    test.prop(
      [
        infrastructureEventSequence({ maxEvents: 40 }).chain((raws) =>
          fc.tuple(
            fc.constant(raws),
            fc.uniqueArray(fc.nat({ max: Math.max(0, raws.length - 1) }), { maxLength: 5 }),
          ),
        ),
      ],
      { numRuns: 150 },
    )('still give the same tables as the reference', ([raws, passivateAt]) => {
      const events = decodeAll(raws);
      expectSameTables(machineTopology(events, new Set(passivateAt)), referenceTopology(events), events);
    });
  });

  describe('when the seeded bench stream of 5,000 events over 400 keys is applied', () => {
    it('gives the same tables as the reference', () => {
      const events = decodeAll(seedInfrastructureEvents(5_000, { keys: 400, seed: 11 }));
      const expected = referenceTopology(events);
      expect(expected.compute_resources.size).toBeGreaterThan(100);
      expectSameTables(machineTopology(events), expected, events);
    });
  });
});

describe('seedInfrastructureEvents', () => {
  describe('when called twice with the same seed', () => {
    it('generates the same bodies', () => {
      const a = seedInfrastructureEvents(500, { keys: 50, seed: 3 });
      const b = seedInfrastructureEvents(500, { keys: 50, seed: 3 });
      expect(b.map((e) => Buffer.from(e.data).toString())).toEqual(
        a.map((e) => Buffer.from(e.data).toString()),
      );
    });
  });

  describe('when asked for more events than keys', () => {
    it('touches exactly that many entity keys, with stream sequences 1..n', () => {
      const raws = seedInfrastructureEvents(3_000, { keys: 200, seed: 5 });
      const keys = new Set(decodeAll(raws).flatMap((e) => topology.keys(e).map(([k, id]) => `${k}:${id}`)));
      expect(keys.size).toBe(200);
      expect(raws.map((r) => r.seq)).toEqual(raws.map((_, i) => i + 1));
    });
  });
});
