/** A plan made into wire events, by a small tracker of what the plan has registered and connected so far. */
import type { Connection, PolicyScope, RawEvent } from '../../../internal.js';
import { advanceInstant, EPOCH_S, type Instant, renderInstant } from '../time.js';
import type { ConnectionPlan, NetworkPlan, Step, Timing } from './plan.js';
import {
  configurationIdAt,
  interfaceIdAt,
  networkIdAt,
  policyIdAt,
  resourceIdAt,
  topologyIdAt,
} from './pool.js';
import { cimEnvelope, type EnvelopeIds, wire } from './wire.js';

const connectionOf = (p: ConnectionPlan): Connection => ({
  from_resource: resourceIdAt(p.a),
  from_interface: interfaceIdAt(p.a, p.ai),
  to_resource: resourceIdAt(p.b),
  to_interface: interfaceIdAt(p.b, p.bi),
});

const networkOf = (p: NetworkPlan) => ({ id: networkIdAt(p.n), name: p.name, cidr_v4: p.v4, cidr_v6: p.v6 });

/** What the plan has made so far, for picking plausible targets. */
interface PlanState {
  /** Resources registered so far. */
  registered: number[];
  /** Connections made so far (connected or listed in a topology). */
  made: Connection[];
}

export function materialize(plan: readonly { step: Step; timing: Timing }[]): RawEvent[] {
  const state: PlanState = { registered: [], made: [] };
  let t: Instant = { s: EPOCH_S, ns: 0 };
  return plan.map(({ step, timing }, index) => {
    t = advanceInstant(t, timing.deltaNs, timing.digits);
    const ids: EnvelopeIds = {
      at: t,
      timestamp: renderInstant(t, timing.digits, timing.offset),
      index,
      causationNull: timing.causationNull,
      extraFields: timing.extraFields,
    };
    return stepEvent(step, ids, index + 1, state);
  });
}

function stepEvent(step: Step, ids: EnvelopeIds, seq: number, { registered, made }: PlanState): RawEvent {
  // Most updates and removals concern a registered resource; `known: false` lets any pool id through.
  const pickResource = (r: number, known: boolean): number =>
    known && registered.length > 0 ? (registered[r % registered.length] as number) : r;
  switch (step.kind) {
    case 'register': {
      if (!registered.includes(step.r)) registered.push(step.r);
      const resource = {
        id: resourceIdAt(step.r),
        resource_type: step.resource_type,
        hostname: step.hostname,
        system: step.system,
        capabilities: step.capabilities,
        interfaces: [interfaceIdAt(step.r, 0)],
        services: [],
        guests: [],
      };
      return wire(
        'ComputeResourceRegistered',
        cimEnvelope('ComputeResourceRegistered', { resource }, ids),
        seq,
      );
    }
    case 'update': {
      const body = cimEnvelope(
        'ResourceUpdated',
        {
          resource_id: resourceIdAt(pickResource(step.r, step.known)),
          updates: { hostname: step.hostname, capabilities: step.capabilities, metadata: step.metadata },
        },
        ids,
      );
      // A missing key reads as null: some writers leave them out.
      const updates = body.data.ResourceUpdated.updates as unknown as Record<string, unknown>;
      for (const key of step.omit) if (updates[key] === null) delete updates[key];
      return wire('ResourceUpdated', body, seq);
    }
    case 'remove':
      return wire(
        'ResourceRemoved',
        cimEnvelope(
          'ResourceRemoved',
          { resource_id: resourceIdAt(pickResource(step.r, step.known)), reason: step.reason },
          ids,
        ),
        seq,
      );
    case 'interface':
      return wire(
        'InterfaceAdded',
        cimEnvelope(
          'InterfaceAdded',
          {
            interface: {
              id: interfaceIdAt(step.r, step.k),
              resource_id: resourceIdAt(step.r),
              network_id: step.network === null ? null : networkIdAt(step.network),
              addresses: step.addresses,
            },
          },
          ids,
        ),
        seq,
      );
    case 'network':
      return wire(
        'NetworkDefined',
        cimEnvelope('NetworkDefined', { network: networkOf(step.network) }, ids),
        seq,
      );
    case 'topology': {
      const connections = step.connections.map(connectionOf);
      made.push(...connections);
      return wire(
        'NetworkTopologyDefined',
        cimEnvelope(
          'NetworkTopologyDefined',
          { topology_id: topologyIdAt(step.topology), networks: step.networks.map(networkOf), connections },
          ids,
        ),
        seq,
      );
    }
    case 'connect': {
      const connection = connectionOf(step.connection);
      made.push(connection);
      return wire('ResourcesConnected', cimEnvelope('ResourcesConnected', { connection }, ids), seq);
    }
    case 'sever': {
      const connection =
        step.known && made.length > 0
          ? (made[step.pick % made.length] as Connection)
          : connectionOf(step.connection);
      return wire(
        'ConnectionSevered',
        cimEnvelope('ConnectionSevered', { connection, reason: step.reason }, ids),
        seq,
      );
    }
    case 'removeNetwork':
      return wire(
        'NetworkRemoved',
        cimEnvelope('NetworkRemoved', { network_id: networkIdAt(step.n), reason: step.reason }, ids),
        seq,
      );
    case 'software':
      return wire(
        'SoftwareConfigured',
        cimEnvelope(
          'SoftwareConfigured',
          {
            configuration: {
              id: configurationIdAt(step.c),
              resource_id: resourceIdAt(step.r),
              software: {
                id: step.software,
                name: step.software,
                version: step.version,
                derivation_path: step.derivation,
              },
              configuration_data: step.data,
              dependencies: step.dependencies,
            },
          },
          ids,
        ),
        seq,
      );
    case 'policy': {
      const s = step.scope;
      const scope: PolicyScope =
        s.kind === 'Global'
          ? 'Global'
          : s.kind === 'Resource'
            ? { Resource: resourceIdAt(s.r) }
            : { Network: networkIdAt(s.n) };
      return wire(
        'PolicyApplied',
        cimEnvelope(
          'PolicyApplied',
          { policy: { id: policyIdAt(step.p), name: step.name, scope, rules: step.rules } },
          ids,
        ),
        seq,
      );
    }
  }
}
