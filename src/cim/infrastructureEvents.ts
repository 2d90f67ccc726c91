/**
 * The CIM infrastructure events as TypeScript types: the crate's entities as serde writes them, each
 * event type's payload, the decoded event, and the subject each type is published on.
 *
 * On the wire an event is the crate's `StoredEvent` envelope whose `data` is serde's externally
 * tagged enum, `{"ComputeResourceRegistered": {...}}`. Decoded (by `decodeInfrastructureEvent` in
 * ./infrastructure.ts), it is the envelope's fields plus `type` (= `event_type`) and `data` = the
 * variant object itself, so code reads `e.data.resource.id`, and an exhaustive `switch (e.type)`
 * narrows `e.data`.
 */

// ---------------------------------------------------------------------------------------------
// Payload types: the crate's entities as serde writes them (newtype ids are plain strings)
// ---------------------------------------------------------------------------------------------

export type ComputeType = 'Physical' | 'VirtualMachine' | 'Container';

export interface ResourceCapabilities {
  cpu_cores: number | null;
  memory_mb: number | null;
  storage_gb: number | null;
  metadata: Record<string, string>;
}

export interface ComputeResource {
  /** Free string. */
  id: string;
  resource_type: ComputeType;
  hostname: string;
  /** Nix system string, e.g. "x86_64-linux". */
  system: string;
  capabilities: ResourceCapabilities;
  interfaces: string[];
  services: string[];
  guests: string[];
}

/** `ResourceUpdated.updates`: each null means unchanged; a key missing on the wire reads as null. */
export interface ResourceUpdates {
  hostname: string | null;
  capabilities: ResourceCapabilities | null;
  metadata: Record<string, string> | null;
}

/** The crate's `NetworkInterface`. */
export interface Interface {
  id: string;
  resource_id: string;
  network_id: string | null;
  /** IPv4 or IPv6 addresses as text. */
  addresses: string[];
}

/** The crate's `Ipv4Network` / `Ipv6Network`. */
export interface Cidr {
  address: string;
  prefix_len: number;
}

export interface Network {
  id: string;
  name: string;
  cidr_v4: Cidr | null;
  cidr_v6: Cidr | null;
}

/** The crate's `PhysicalConnection`; its read-model id is {@link connectionId}. */
export interface Connection {
  from_resource: string;
  from_interface: string;
  to_resource: string;
  to_interface: string;
}

export interface SoftwareArtifact {
  id: string;
  name: string;
  version: string;
  derivation_path: string | null;
}

export interface SoftwareConfiguration {
  /** UUID. */
  id: string;
  resource_id: string;
  software: SoftwareArtifact;
  /** Any JSON value. */
  configuration_data: unknown;
  dependencies: string[];
}

/** serde's externally tagged `PolicyScope`. */
export type PolicyScope = 'Global' | { Resource: string } | { Network: string };
export type RuleType = 'Security' | 'Access' | 'Compliance' | 'Performance';

export interface Rule {
  rule_type: RuleType;
  condition: string;
  action: string;
}

/** The crate's `PolicyRule`. */
export interface Policy {
  /** UUID. */
  id: string;
  name: string;
  scope: PolicyScope;
  rules: Rule[];
}

/** The domain event's own ids and time, carried by every variant (not the envelope's). */
export interface DomainEventIds {
  event_id: string;
  correlation_id: string;
  causation_id: string | null;
  timestamp: string;
}

/** Each event type and its variant object (`data.<event_type>` on the wire). */
export interface InfrastructurePayloads {
  ComputeResourceRegistered: DomainEventIds & { resource: ComputeResource };
  ResourceUpdated: DomainEventIds & { resource_id: string; updates: ResourceUpdates };
  ResourceRemoved: DomainEventIds & { resource_id: string; reason: string };
  InterfaceAdded: DomainEventIds & { interface: Interface };
  NetworkDefined: DomainEventIds & { network: Network };
  NetworkTopologyDefined: DomainEventIds & {
    topology_id: string;
    networks: Network[];
    connections: Connection[];
  };
  ResourcesConnected: DomainEventIds & { connection: Connection };
  SoftwareConfigured: DomainEventIds & { configuration: SoftwareConfiguration };
  PolicyApplied: DomainEventIds & { policy: Policy };
  /** prosa's addition: the crate's enum does not know it yet. */
  ConnectionSevered: DomainEventIds & { connection: Connection; reason: string };
  /** prosa's addition: the crate's enum does not know it yet. */
  NetworkRemoved: DomainEventIds & { network_id: string; reason: string };
}

export type InfrastructureEventType = keyof InfrastructurePayloads;
export type InfrastructurePayload<T extends InfrastructureEventType> = InfrastructurePayloads[T];

/** The envelope's fields as decoded (`causation_id` and `metadata` read as null when absent). */
export interface InfrastructureEnvelope {
  event_id: string;
  aggregate_id: string;
  /** Caller-supplied and unchecked (the crates write 1): never order or dedupe on it. */
  sequence: number;
  /** The append time, RFC 3339 as it came. */
  timestamp: string;
  correlation_id: string;
  causation_id: string | null;
  metadata: unknown;
}

/** One decoded event of type `T`. */
export interface InfrastructureEventOf<T extends InfrastructureEventType> extends InfrastructureEnvelope {
  /** = `event_type`; XState's event discriminant. */
  type: T;
  event_type: T;
  /** The variant object, unwrapped from `{"<event_type>": {...}}`. */
  data: InfrastructurePayloads[T];
}

/** A decoded infrastructure event: `switch (e.type)` narrows `e.data`. */
export type InfrastructureEvent = {
  [T in InfrastructureEventType]: InfrastructureEventOf<T>;
}[InfrastructureEventType];

/** The subject each event type is published on. Two types share `network.defined`. */
export const infrastructureSubjects = {
  ComputeResourceRegistered: 'infrastructure.compute.registered',
  ResourceUpdated: 'infrastructure.compute.updated',
  ResourceRemoved: 'infrastructure.compute.decommissioned',
  InterfaceAdded: 'infrastructure.network.added',
  NetworkDefined: 'infrastructure.network.defined',
  NetworkTopologyDefined: 'infrastructure.network.defined',
  ResourcesConnected: 'infrastructure.connection.established',
  SoftwareConfigured: 'infrastructure.software.configured',
  PolicyApplied: 'infrastructure.policy.set',
  ConnectionSevered: 'infrastructure.connection.severed',
  NetworkRemoved: 'infrastructure.network.removed',
} as const satisfies Record<InfrastructureEventType, string>;

/** Every infrastructure event type, in the contract's order. */
export const infrastructureEventTypes = Object.freeze(
  Object.keys(infrastructureSubjects),
) as readonly InfrastructureEventType[];

export const isInfrastructureEventType = (t: unknown): t is InfrastructureEventType =>
  typeof t === 'string' && Object.hasOwn(infrastructureSubjects, t);

/** A connection's read-model id: `from_resource:from_interface--to_resource:to_interface`. */
export const connectionId = (c: Connection): string =>
  `${c.from_resource}:${c.from_interface}--${c.to_resource}:${c.to_interface}`;
