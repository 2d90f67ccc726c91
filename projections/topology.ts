// topology: the infrastructure read model (docs/schema.md#topology-read-model). It answers: which
// compute resources exist and which are active (with their hostname, type, capabilities and why
// they were removed), which interfaces sit on which resource and network, which networks and
// physical connections exist and are active, and which software configurations and policies apply
// where. One actor per entity, fed in stream order; its context is its row. Bad input goes to
// dlq.topology with the reason.
//
// Tables: compute_resources, interfaces, networks, connections, software_configurations, policies.
// Views:  active_compute_resources, active_networks, active_connections.

import {
  assertNever,
  type Connection,
  connectionId,
  decodeInfrastructureEvent,
  defineProjection,
  type EntityKey,
  type InfrastructureEvent,
  type Network,
} from 'prosa';
import { computeResource, connection, iface, network, policy, software } from '../machines/topology.js';
import { topologySchema } from './topology.schema.js';

/** The kinds of entity this read model keeps, one actor per `[kind, id]`. */
export type TopologyKind = 'resource' | 'interface' | 'network' | 'connection' | 'software' | 'policy';
type Key = EntityKey<TopologyKind>;

export default defineProjection<InfrastructureEvent, TopologyKind>({
  name: 'topology',
  version: 1,
  source: { stream: 'INFRASTRUCTURE_EVENTS', subjects: ['infrastructure.>'] },

  /** Validates envelope and payload (docs/wire-format.md); `e.type` is the event type, `e.data` the variant. */
  decode: decodeInfrastructureEvent,

  /** The entities an event concerns; one event may touch several. */
  keys(e): readonly Key[] {
    switch (e.type) {
      case 'ComputeResourceRegistered':
        return [['resource', e.data.resource.id]];
      case 'ResourceUpdated':
      case 'ResourceRemoved':
        return [['resource', e.data.resource_id]];
      case 'InterfaceAdded':
        return [['interface', e.data.interface.id]];
      case 'NetworkDefined':
        return [['network', e.data.network.id]];
      case 'NetworkRemoved':
        return [['network', e.data.network_id]];
      case 'NetworkTopologyDefined':
        return topologyKeys(e.data.networks, e.data.connections);
      case 'ResourcesConnected':
      case 'ConnectionSevered':
        return [['connection', connectionId(e.data.connection)]];
      case 'SoftwareConfigured':
        return [['software', e.data.configuration.id]];
      case 'PolicyApplied':
        return [['policy', e.data.policy.id]];
      default:
        return assertNever(e); // a new event type fails to compile here
    }
  },

  /** Each kind of entity: its pure machine (machines/topology.ts) and the table its context becomes. */
  entities: {
    resource: { machine: computeResource, table: 'compute_resources' },
    interface: { machine: iface, table: 'interfaces' },
    network: { machine: network, table: 'networks' },
    connection: { machine: connection, table: 'connections' },
    software: { machine: software, table: 'software_configurations' },
    policy: { machine: policy, table: 'policies' },
  },

  schema: topologySchema,
});

/**
 * Each network and each connection of a topology, once: an entity listed twice gets the event
 * once (its machine applies the last listing, as upserting each in order would).
 */
function topologyKeys(networks: readonly Network[], connections: readonly Connection[]): readonly Key[] {
  const keys: Key[] = [];
  const seen = new Set<string>();
  for (const n of networks) {
    if (!seen.has(n.id)) {
      seen.add(n.id);
      keys.push(['network', n.id]);
    }
  }
  seen.clear();
  for (const c of connections) {
    const id = connectionId(c);
    if (!seen.has(id)) {
      seen.add(id);
      keys.push(['connection', id]);
    }
  }
  return keys;
}
