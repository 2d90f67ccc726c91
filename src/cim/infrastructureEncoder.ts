/**
 * Writes CIM infrastructure events as the crates publish them (tests, the demo, benches): the exact
 * envelope and JSON, field for field in the crate's order, and plain entity builders to fill them.
 */
import { v7 as uuidv7 } from 'uuid';
import { systemClock } from '../time/clock.js';
import { formatTimestamp, type StoredEvent } from './envelope.js';
import {
  type Cidr,
  type ComputeResource,
  type Connection,
  type DomainEventIds,
  type InfrastructureEventType,
  type InfrastructurePayloads,
  type Interface,
  infrastructureSubjects,
  type Network,
  type Policy,
  type ResourceCapabilities,
  type SoftwareConfiguration,
} from './infrastructureEvents.js';

/** What a caller gives for a payload: the variant's fields; the domain ids and time are optional. */
export type InfrastructurePayloadInput<T extends InfrastructureEventType> = Omit<
  InfrastructurePayloads[T],
  keyof DomainEventIds
> &
  Partial<DomainEventIds>;

/** The wire form: `{"<event_type>": {...}}`. */
export type TaggedPayload<T extends InfrastructureEventType> = { [K in T]: InfrastructurePayloads[K] };

export interface EncodeOptions {
  /**
   * The one infrastructure aggregate's id.
   * @default {@link defaultInfrastructureId}: one UUID v7 per process, like the crate's `InfrastructureId::new()`
   */
  aggregateId?: string;
  /** Envelope `event_id`. @default a fresh UUID v7 */
  eventId?: string;
  /** Envelope `correlation_id`. @default a fresh UUID v7 */
  correlationId?: string;
  /** Envelope `causation_id`. @default a fresh UUID v7 (the crate never writes null) */
  causationId?: string | null;
  /** Envelope `timestamp`, the append time. @default now, written as chrono writes it */
  timestamp?: string;
  /** @default 1, as the crates write */
  sequence?: number;
  /** @default the event type's subject ({@link infrastructureSubjects}) */
  subject?: string;
}

/** An encoded message: what to publish and where. */
export interface EncodedEvent {
  subject: string;
  data: Uint8Array;
}

/** The infrastructure aggregate id the encoder uses when none is given (fresh per process). */
export const defaultInfrastructureId: string = uuidv7();

const nullable = <T>(v: T | null | undefined): T | null => (v === undefined ? null : v);

// Each entity rebuilt in the crate's field order (serde writes struct fields in declaration order).
const wireCapabilities = (c: Partial<ResourceCapabilities>): ResourceCapabilities => ({
  cpu_cores: nullable(c.cpu_cores),
  memory_mb: nullable(c.memory_mb),
  storage_gb: nullable(c.storage_gb),
  metadata: c.metadata ?? {},
});
const wireCidr = (c: Cidr | null | undefined): Cidr | null =>
  c == null ? null : { address: c.address, prefix_len: c.prefix_len };
const wireNetwork = (n: Network): Network => ({
  id: n.id,
  name: n.name,
  cidr_v4: wireCidr(n.cidr_v4),
  cidr_v6: wireCidr(n.cidr_v6),
});
const wireConnection = (c: Connection): Connection => ({
  from_resource: c.from_resource,
  from_interface: c.from_interface,
  to_resource: c.to_resource,
  to_interface: c.to_interface,
});

type VariantFields = { [T in InfrastructureEventType]: (p: InfrastructurePayloadInput<T>) => object };
const wireVariant: VariantFields = {
  ComputeResourceRegistered: ({ resource: r }) => ({
    resource: {
      id: r.id,
      resource_type: r.resource_type,
      hostname: r.hostname,
      system: r.system,
      capabilities: wireCapabilities(r.capabilities),
      interfaces: r.interfaces,
      services: r.services,
      guests: r.guests,
    },
  }),
  ResourceUpdated: ({ resource_id, updates: u }) => ({
    resource_id,
    updates: {
      hostname: nullable(u.hostname),
      capabilities: u.capabilities == null ? null : wireCapabilities(u.capabilities),
      metadata: nullable(u.metadata),
    },
  }),
  ResourceRemoved: ({ resource_id, reason }) => ({ resource_id, reason }),
  InterfaceAdded: ({ interface: i }) => ({
    interface: {
      id: i.id,
      resource_id: i.resource_id,
      network_id: nullable(i.network_id),
      addresses: i.addresses,
    },
  }),
  NetworkDefined: ({ network }) => ({ network: wireNetwork(network) }),
  NetworkTopologyDefined: ({ topology_id, networks, connections }) => ({
    topology_id,
    networks: networks.map(wireNetwork),
    connections: connections.map(wireConnection),
  }),
  ResourcesConnected: ({ connection }) => ({ connection: wireConnection(connection) }),
  SoftwareConfigured: ({ configuration: c }) => ({
    configuration: {
      id: c.id,
      resource_id: c.resource_id,
      software: {
        id: c.software.id,
        name: c.software.name,
        version: c.software.version,
        derivation_path: nullable(c.software.derivation_path),
      },
      configuration_data: c.configuration_data === undefined ? null : c.configuration_data,
      dependencies: c.dependencies,
    },
  }),
  PolicyApplied: ({ policy: p }) => ({
    policy: {
      id: p.id,
      name: p.name,
      scope: p.scope,
      rules: p.rules.map((r) => ({ rule_type: r.rule_type, condition: r.condition, action: r.action })),
    },
  }),
  ConnectionSevered: ({ connection, reason }) => ({ connection: wireConnection(connection), reason }),
  NetworkRemoved: ({ network_id, reason }) => ({ network_id, reason }),
};

/**
 * The envelope object the crate would publish for one event, in its field order: fresh UUID v7
 * envelope ids, `sequence` 1, `data` externally tagged, `metadata` null. The domain event's
 * `event_id` and `correlation_id` default to fresh UUID v7s, `causation_id` to null and `timestamp`
 * to the envelope's.
 */
export function buildInfrastructureEnvelope<T extends InfrastructureEventType>(
  type: T,
  payload: InfrastructurePayloadInput<T>,
  options: EncodeOptions = {},
): StoredEvent<TaggedPayload<T>> {
  const timestamp = options.timestamp ?? formatTimestamp(systemClock.now());
  const variant = {
    event_id: payload.event_id ?? uuidv7(),
    correlation_id: payload.correlation_id ?? uuidv7(),
    causation_id: payload.causation_id ?? null,
    timestamp: payload.timestamp ?? timestamp,
    ...(wireVariant[type] as (p: InfrastructurePayloadInput<T>) => object)(payload),
  } as InfrastructurePayloads[T];
  return {
    event_id: options.eventId ?? uuidv7(),
    aggregate_id: options.aggregateId ?? defaultInfrastructureId,
    sequence: options.sequence ?? 1,
    timestamp,
    correlation_id: options.correlationId ?? uuidv7(),
    causation_id: options.causationId === undefined ? uuidv7() : options.causationId,
    event_type: type,
    data: { [type]: variant } as TaggedPayload<T>,
    metadata: null,
  };
}

const encoder = new TextEncoder();

/**
 * One event as the crate publishes it: compact UTF-8 JSON of {@link buildInfrastructureEnvelope} on
 * the event type's subject, with no headers.
 *
 * @example
 * const { subject, data } = encodeInfrastructureEvent('ResourceRemoved', { resource_id: 'web-1', reason: 'retired' });
 * await js.publish(subject, data);
 */
export function encodeInfrastructureEvent<T extends InfrastructureEventType>(
  type: T,
  payload: InfrastructurePayloadInput<T>,
  options: EncodeOptions = {},
): EncodedEvent {
  return {
    subject: options.subject ?? infrastructureSubjects[type],
    data: encoder.encode(JSON.stringify(buildInfrastructureEnvelope(type, payload, options))),
  };
}

// ---------------------------------------------------------------------------------------------
// Entity builders with plain defaults (tests, the demo)
// ---------------------------------------------------------------------------------------------

/** A compute resource: Physical, x86_64-linux, hostname = id, no capabilities, unless overridden. */
export function makeComputeResource(
  resourceId: string,
  overrides: Partial<ComputeResource> = {},
): ComputeResource {
  return {
    id: resourceId,
    resource_type: 'Physical',
    hostname: resourceId,
    system: 'x86_64-linux',
    capabilities: { cpu_cores: null, memory_mb: null, storage_gb: null, metadata: {} },
    interfaces: [],
    services: [],
    guests: [],
    ...overrides,
  };
}

export function makeInterface(
  interfaceId: string,
  resourceId: string,
  overrides: Partial<Interface> = {},
): Interface {
  return { id: interfaceId, resource_id: resourceId, network_id: null, addresses: [], ...overrides };
}

/** A network named after its id, with no CIDR, unless overridden. */
export function makeNetwork(networkId: string, overrides: Partial<Network> = {}): Network {
  return { id: networkId, name: networkId, cidr_v4: null, cidr_v6: null, ...overrides };
}

export function makeConnection(
  fromResource: string,
  fromInterface: string,
  toResource: string,
  toInterface: string,
): Connection {
  return {
    from_resource: fromResource,
    from_interface: fromInterface,
    to_resource: toResource,
    to_interface: toInterface,
  };
}

export function makeSoftwareConfiguration(
  configurationId: string,
  resourceId: string,
  overrides: Partial<SoftwareConfiguration> = {},
): SoftwareConfiguration {
  return {
    id: configurationId,
    resource_id: resourceId,
    software: { id: 'nginx', name: 'nginx', version: '1.26.0', derivation_path: null },
    configuration_data: {},
    dependencies: [],
    ...overrides,
  };
}

export function makePolicy(policyId: string, overrides: Partial<Policy> = {}): Policy {
  return { id: policyId, name: policyId, scope: 'Global', rules: [], ...overrides };
}
