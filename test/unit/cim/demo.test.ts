import { describe, expect, it } from 'vitest';
import topology from '../../../projections/topology.js';
import { createDemoScenario, type DemoEvent } from '../../../src/cim/demo/index.js';
import { compareTimestamps } from '../../../src/cim/envelope.js';
import {
  connectionId,
  decodeInfrastructureEvent,
  type InfrastructureEvent,
  infrastructureEventTypes,
  infrastructureSubjects,
} from '../../../src/cim/infrastructure.js';
import type { RawEvent } from '../../../src/define/projection.js';
import { cleanReplay } from '../../../src/testkit/replay.js';
import { readTopology, referenceTopology } from '../../support/referenceTopology.js';

const scenario = (events: number, seed?: number): DemoEvent[] => [
  ...createDemoScenario({ events, ...(seed === undefined ? {} : { seed }) }),
];
const asStream = (events: readonly DemoEvent[]): RawEvent[] =>
  events.map((e, i) => ({ subject: e.subject, seq: i + 1, data: e.data }));
const decodeAll = (events: readonly DemoEvent[]): InfrastructureEvent[] =>
  asStream(events).map(decodeInfrastructureEvent);
const text = (events: readonly DemoEvent[]) => events.map((e) => new TextDecoder().decode(e.data));

describe('demo scenario', () => {
  describe('when it is generated twice with the same seed', () => {
    it('yields the same subjects and bytes', () => {
      const a = scenario(500, 7);
      const b = scenario(500, 7);
      expect(b.map((e) => e.subject)).toEqual(a.map((e) => e.subject));
      expect(text(b)).toEqual(text(a));
    });
  });

  describe('when it is generated with another seed', () => {
    it('tells a different story', () => {
      expect(text(scenario(300, 8))).not.toEqual(text(scenario(300, 7)));
    });
  });

  describe('when a number of events is asked for', () => {
    it('yields exactly that many, also when the story is cut mid-way', () => {
      for (const n of [0, 1, 37, 1_234]) expect(scenario(n)).toHaveLength(n);
    });
  });

  describe('when its 2,000 events are decoded', () => {
    const events = scenario(2_000);
    const decoded = decodeAll(events);

    it('decodes every one under the infrastructure event contract, on its type’s subject, in the crates’ envelope', () => {
      const aggregate = decoded[0]?.aggregate_id;
      decoded.forEach((e, i) => {
        const raw = events[i] as DemoEvent;
        expect(e.type).toBe(raw.type);
        expect(raw.subject).toBe(infrastructureSubjects[e.type]);
        expect(e.sequence).toBe(1);
        expect(e.metadata).toBeNull();
        expect(e.aggregate_id).toBe(aggregate);
        expect(e.causation_id).not.toBeNull();
      });
    });

    it('includes every event type', () => {
      expect(new Set(decoded.map((e) => e.type))).toEqual(new Set(infrastructureEventTypes));
    });

    it('appends in time order, each domain event a little before its append', () => {
      for (let i = 1; i < decoded.length; i++) {
        const e = decoded[i] as InfrastructureEvent;
        expect(
          compareTimestamps((decoded[i - 1] as InfrastructureEvent).timestamp, e.timestamp),
        ).toBeLessThan(0);
        expect(compareTimestamps(e.data.timestamp, e.timestamp)).toBeLessThan(0);
      }
    });

    it('chains the events of one story by correlation and causation', () => {
      const ids = new Set(decoded.map((e) => e.data.event_id));
      const caused = decoded.filter((e) => e.data.causation_id !== null);
      expect(caused.length).toBeGreaterThan(decoded.length / 2);
      for (const e of caused) expect(ids.has(e.data.causation_id as string)).toBe(true);
    });

    it('updates, removes and severs only what was registered, defined or connected before', () => {
      const resources = new Set<string>();
      const networks = new Set<string>();
      const activeConnections = new Set<string>();
      for (const e of decoded) {
        switch (e.type) {
          case 'ComputeResourceRegistered':
            resources.add(e.data.resource.id);
            break;
          case 'ResourceUpdated':
          case 'ResourceRemoved':
            expect(resources.has(e.data.resource_id)).toBe(true);
            break;
          case 'NetworkDefined':
            networks.add(e.data.network.id);
            break;
          case 'NetworkTopologyDefined':
            for (const n of e.data.networks) networks.add(n.id);
            for (const c of e.data.connections) activeConnections.add(connectionId(c));
            break;
          case 'NetworkRemoved':
            expect(networks.has(e.data.network_id)).toBe(true);
            break;
          case 'InterfaceAdded':
            expect(resources.has(e.data.interface.resource_id)).toBe(true);
            if (e.data.interface.network_id !== null)
              expect(networks.has(e.data.interface.network_id)).toBe(true);
            break;
          case 'ResourcesConnected':
            activeConnections.add(connectionId(e.data.connection));
            break;
          case 'ConnectionSevered':
            expect(activeConnections.delete(connectionId(e.data.connection))).toBe(true);
            break;
          case 'SoftwareConfigured':
            expect(resources.has(e.data.configuration.resource_id)).toBe(true);
            break;
          case 'PolicyApplied':
            break;
        }
      }
    });
  });

  describe('when its 2,000 events are replayed through the topology projection', () => {
    const events = scenario(2_000);
    const { db, deadLetters } = cleanReplay(topology, asStream(events));
    const count = (table: string, active: 0 | 1) =>
      db.prepare(`SELECT count(*) FROM ${table} WHERE is_active = ?`).pluck().get(active) as number;

    it('dead-letters nothing', () => {
      expect(deadLetters).toEqual([]);
    });

    it('leaves active and inactive resources, networks and connections', () => {
      for (const table of ['compute_resources', 'networks', 'connections']) {
        expect(count(table, 1), `active ${table}`).toBeGreaterThan(0);
        expect(count(table, 0), `inactive ${table}`).toBeGreaterThan(0);
      }
    });

    it('has physical hosts, VMs and containers, and networks of every addressing type', () => {
      expect(
        db.prepare('SELECT DISTINCT resource_type FROM active_compute_resources ORDER BY 1').pluck().all(),
      ).toEqual(['Container', 'Physical', 'VirtualMachine']);
      expect(db.prepare('SELECT DISTINCT network_type FROM networks ORDER BY 1').pluck().all()).toEqual([
        'DualStack',
        'IPv4',
        'IPv6',
        'Unknown',
      ]);
    });

    it('has policies of every scope', () => {
      expect(
        db
          .prepare("SELECT DISTINCT substr(scope, 1, instr(scope || ':', ':') - 1) FROM policies ORDER BY 1")
          .pluck()
          .all(),
      ).toEqual(['global', 'network', 'resource']);
    });

    it('equals the reference fold of the same events', () => {
      expect(readTopology(db)).toEqual(referenceTopology(decodeAll(events)));
    });
  });
});
