/**
 * Wire-shaped CIM infrastructure events in domain words, for saga and projection tests:
 * `registered('r1')`, `connected('r1', 'r2')`, `removed('r1')`, ...
 * Connections use interface `eth0` at both ends unless told otherwise.
 */

import {
  type Connection,
  connectionId,
  encodeInfrastructureEvent,
  makeComputeResource,
  makeConnection,
  makeInterface,
  makeNetwork,
} from '../../src/cim/infrastructure.js';
import type { RawEvent } from '../../src/define/projection.js';

export const link = (from: string, to: string, fromIf = 'eth0', toIf = 'eth0'): Connection =>
  makeConnection(from, fromIf, to, toIf);
export const linkId = (from: string, to: string) => connectionId(link(from, to));

export const registered = (id: string) =>
  encodeInfrastructureEvent('ComputeResourceRegistered', { resource: makeComputeResource(id) });
export const removed = (id: string, reason = 'retired') =>
  encodeInfrastructureEvent('ResourceRemoved', { resource_id: id, reason });
export const hostnameUpdated = (id: string, hostname: string) =>
  encodeInfrastructureEvent('ResourceUpdated', {
    resource_id: id,
    updates: { hostname, capabilities: null, metadata: null },
  });
/** A ResourceUpdated whose payload does not validate (cpu_cores "many"), but whose resource id does. */
export function badCoresUpdated(id: string) {
  const good = hostnameUpdated(id, 'x');
  const body = JSON.parse(new TextDecoder().decode(good.data));
  body.data.ResourceUpdated.updates.capabilities = {
    cpu_cores: 'many',
    memory_mb: null,
    storage_gb: null,
    metadata: {},
  };
  return { subject: good.subject, data: new TextEncoder().encode(JSON.stringify(body)) };
}
export const connected = (from: string, to: string) =>
  encodeInfrastructureEvent('ResourcesConnected', { connection: link(from, to) });
export const severed = (from: string, to: string, reason = 'cable pulled') =>
  encodeInfrastructureEvent('ConnectionSevered', { connection: link(from, to), reason });
export const topologyDefined = (...pairs: [string, string][]) =>
  encodeInfrastructureEvent('NetworkTopologyDefined', {
    topology_id: '0190a6f0-0000-7000-8000-000000000001',
    networks: [makeNetwork('lan')],
    connections: pairs.map(([a, b]) => link(a, b)),
  });
export const interfaceAdded = (resource: string, network: string | null, id = `${resource}-eth0`) =>
  encodeInfrastructureEvent('InterfaceAdded', {
    interface: makeInterface(id, resource, { network_id: network }),
  });

/** The commands the two shipped sagas emit, as a scenario expects them. */
export const severConnection = (resource: string, from: string, to: string) => ({
  type: 'SeverConnection',
  aggregateId: resource,
  data: {
    connection: { from_resource: from, from_interface: 'eth0', to_resource: to, to_interface: 'eth0' },
    reason: 'resource decommissioned',
  },
});
export const reportStuck = (resource: string, remaining: string[]) => ({
  type: 'ReportStuckDecommission',
  aggregateId: resource,
  data: { resource_id: resource, remaining },
});

/** Resources registered, wired in a ring, some given a network, then most decommissioned: work for both sagas. */
export function sagaWorkload(resources: number): RawEvent[] {
  const id = (i: number) => `host-${i % resources}`;
  const events = [];
  for (let i = 0; i < resources; i++) events.push(registered(id(i)));
  for (let i = 0; i < resources; i++) events.push(connected(id(i), id(i + 1)), connected(id(i), id(i + 7)));
  for (let i = 0; i < resources; i += 3) events.push(interfaceAdded(id(i), 'lan'));
  for (let i = 0; i < resources; i += 5) events.push(severed(id(i), id(i + 1)));
  for (let i = 0; i < resources; i++) if (i % 4 !== 0) events.push(removed(id(i)));
  return events.map((e, i) => ({ subject: e.subject, data: e.data, seq: i + 1 }));
}
