/**
 * The CIM infrastructure events (DESIGN 3.2): their types, the decoder every projection and saga of
 * `INFRASTRUCTURE_EVENTS` uses, and an encoder that writes the exact JSON the crates publish.
 *
 * On the wire an event is the crate's `StoredEvent` envelope whose `data` is serde's externally
 * tagged enum, `{"ComputeResourceRegistered": {...}}`. Decoded, it is the envelope's fields plus
 * `type` (= `event_type`) and `data` = the variant object itself, so code reads
 * `e.data.resource.id`, and an exhaustive `switch (e.type)` narrows `e.data`.
 *
 * The decoder is on the hot path: the checks are hand-written, build nothing on success but the
 * decoded event (the payload objects are the parsed ones, not copies), and name on failure the JSON
 * path, what was expected and what came.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { v7 as uuidv7 } from 'uuid';
import type { RawEvent } from '../define/projection.js';
import { InvalidEventError } from '../errors.js';
import {
  assertEnvelopeFields,
  describeValue,
  formatTimestamp,
  isTimestamp,
  isUuid,
  parseJsonBody,
  type StoredEvent,
} from './envelope.js';

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

/** The subject each event type is published on (DESIGN 3.2). Two types share `network.defined`. */
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

/** Every infrastructure event type, in DESIGN 3.2's order. */
export const infrastructureEventTypes = Object.freeze(
  Object.keys(infrastructureSubjects),
) as readonly InfrastructureEventType[];

export const isInfrastructureEventType = (t: unknown): t is InfrastructureEventType =>
  typeof t === 'string' && Object.hasOwn(infrastructureSubjects, t);

/** A connection's read-model id: `from_resource:from_interface--to_resource:to_interface`. */
export const connectionId = (c: Connection): string =>
  `${c.from_resource}:${c.from_interface}--${c.to_resource}:${c.to_interface}`;

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

/** A payload field that is not what the contract says; turned into an InvalidEventError by the decoder. */
class FieldProblem {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly got: unknown,
  ) {}
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const at = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

function object(o: Obj, key: string, path: string, expected: string): Obj {
  const v = o[key];
  if (!isObj(v)) throw new FieldProblem(at(path, key), expected, v);
  return v;
}

function array(o: Obj, key: string, path: string, expected: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new FieldProblem(at(path, key), expected, v);
  return v;
}

function text(o: Obj, key: string, path: string): void {
  if (typeof o[key] !== 'string') throw new FieldProblem(at(path, key), 'a string', o[key]);
}

/** An entity id: a non-empty string (the crate's constructors refuse empty ids). */
function id(o: Obj, key: string, path: string): void {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw new FieldProblem(at(path, key), 'a non-empty id string', v);
}

function uuid(o: Obj, key: string, path: string): void {
  if (!isUuid(o[key])) throw new FieldProblem(at(path, key), 'a uuid string', o[key]);
}

/** An `Option<_>`: null, or missing (normalised to null, as serde reads it). */
function optional(o: Obj, key: string): boolean {
  const v = o[key];
  if (v === undefined) {
    o[key] = null;
    return false;
  }
  return v !== null;
}

function optionalText(o: Obj, key: string, path: string, nonEmpty = false): void {
  if (optional(o, key) && (typeof o[key] !== 'string' || (nonEmpty && o[key] === ''))) {
    throw new FieldProblem(
      at(path, key),
      nonEmpty ? 'a non-empty id string or null' : 'a string or null',
      o[key],
    );
  }
}

function count(o: Obj, key: string, path: string): void {
  if (!optional(o, key)) return;
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new FieldProblem(at(path, key), 'a non-negative integer or null', v);
  }
}

function stringArray(o: Obj, key: string, path: string): void {
  const list = array(o, key, path, 'an array of strings');
  for (let i = 0; i < list.length; i++) {
    if (typeof list[i] !== 'string') throw new FieldProblem(`${at(path, key)}[${i}]`, 'a string', list[i]);
  }
}

function stringMap(v: unknown, path: string): void {
  if (!isObj(v)) throw new FieldProblem(path, 'an object of string values', v);
  for (const k in v) {
    if (typeof v[k] !== 'string') throw new FieldProblem(`${path}.${k}`, 'a string', v[k]);
  }
}

function oneOf(o: Obj, key: string, path: string, allowed: readonly string[]): void {
  const v = o[key];
  if (typeof v !== 'string' || !allowed.includes(v)) {
    throw new FieldProblem(at(path, key), `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, v);
  }
}

const COMPUTE_TYPES: readonly ComputeType[] = ['Physical', 'VirtualMachine', 'Container'];
const RULE_TYPES: readonly RuleType[] = ['Security', 'Access', 'Compliance', 'Performance'];

function capabilities(c: Obj, path: string): void {
  count(c, 'cpu_cores', path);
  count(c, 'memory_mb', path);
  count(c, 'storage_gb', path);
  stringMap(c.metadata, at(path, 'metadata'));
}

function cidr(o: Obj, key: string, path: string, v6: boolean): void {
  if (!optional(o, key)) return;
  const p = at(path, key);
  const c = object(o, key, path, `{"address": "<${v6 ? 'IPv6' : 'IPv4'} address>", "prefix_len": n} or null`);
  if (typeof c.address !== 'string' || !(v6 ? isIPv6(c.address) : isIPv4(c.address))) {
    throw new FieldProblem(`${p}.address`, `an ${v6 ? 'IPv6' : 'IPv4'} address`, c.address);
  }
  const max = v6 ? 128 : 32;
  const n = c.prefix_len;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) {
    throw new FieldProblem(`${p}.prefix_len`, `an integer from 0 to ${max}`, n);
  }
}

function network(n: unknown, path: string): void {
  if (!isObj(n)) throw new FieldProblem(path, 'a network object {id, name, cidr_v4, cidr_v6}', n);
  id(n, 'id', path);
  text(n, 'name', path);
  cidr(n, 'cidr_v4', path, false);
  cidr(n, 'cidr_v6', path, true);
}

function connection(c: unknown, path: string): void {
  if (!isObj(c)) {
    throw new FieldProblem(
      path,
      'a connection object {from_resource, from_interface, to_resource, to_interface}',
      c,
    );
  }
  id(c, 'from_resource', path);
  id(c, 'from_interface', path);
  id(c, 'to_resource', path);
  id(c, 'to_interface', path);
}

function scope(p: Obj, path: string): void {
  const s = p.scope;
  if (s === 'Global') return;
  if (isObj(s)) {
    const keys = Object.keys(s);
    if (keys.length === 1 && (keys[0] === 'Resource' || keys[0] === 'Network')) {
      const target = s[keys[0]];
      if (typeof target === 'string' && target !== '') return;
      throw new FieldProblem(`${at(path, 'scope')}.${keys[0]}`, 'a non-empty id string', target);
    }
  }
  throw new FieldProblem(at(path, 'scope'), '"Global", {"Resource": "<id>"} or {"Network": "<id>"}', s);
}

/** Checks (and normalises in place) one variant object; throws FieldProblem. */
const payloadCheckers: { readonly [T in InfrastructureEventType]: (d: Obj) => void } = {
  ComputeResourceRegistered(d) {
    const r = object(d, 'resource', '', 'a compute resource object');
    id(r, 'id', 'resource');
    oneOf(r, 'resource_type', 'resource', COMPUTE_TYPES);
    text(r, 'hostname', 'resource');
    text(r, 'system', 'resource');
    capabilities(
      object(r, 'capabilities', 'resource', '{cpu_cores, memory_mb, storage_gb, metadata}'),
      'resource.capabilities',
    );
    stringArray(r, 'interfaces', 'resource');
    stringArray(r, 'services', 'resource');
    stringArray(r, 'guests', 'resource');
  },
  ResourceUpdated(d) {
    id(d, 'resource_id', '');
    const u = object(d, 'updates', '', '{hostname, capabilities, metadata} (each null = unchanged)');
    optionalText(u, 'hostname', 'updates');
    if (optional(u, 'capabilities')) {
      capabilities(
        object(u, 'capabilities', 'updates', '{cpu_cores, memory_mb, storage_gb, metadata} or null'),
        'updates.capabilities',
      );
    }
    if (optional(u, 'metadata')) stringMap(u.metadata, 'updates.metadata');
  },
  ResourceRemoved(d) {
    id(d, 'resource_id', '');
    text(d, 'reason', '');
  },
  InterfaceAdded(d) {
    const i = object(d, 'interface', '', 'an interface object {id, resource_id, network_id, addresses}');
    id(i, 'id', 'interface');
    id(i, 'resource_id', 'interface');
    optionalText(i, 'network_id', 'interface', true);
    const addresses = array(i, 'addresses', 'interface', 'an array of IPv4 or IPv6 addresses');
    for (let k = 0; k < addresses.length; k++) {
      const a = addresses[k];
      if (typeof a !== 'string' || !(isIPv4(a) || isIPv6(a))) {
        throw new FieldProblem(`interface.addresses[${k}]`, 'an IPv4 or IPv6 address', a);
      }
    }
  },
  NetworkDefined(d) {
    network(d.network, 'network');
  },
  NetworkTopologyDefined(d) {
    uuid(d, 'topology_id', '');
    const networks = array(d, 'networks', '', 'an array of networks');
    for (let k = 0; k < networks.length; k++) network(networks[k], `networks[${k}]`);
    const connections = array(d, 'connections', '', 'an array of connections');
    for (let k = 0; k < connections.length; k++) connection(connections[k], `connections[${k}]`);
  },
  ResourcesConnected(d) {
    connection(d.connection, 'connection');
  },
  SoftwareConfigured(d) {
    const c = object(d, 'configuration', '', 'a software configuration object');
    uuid(c, 'id', 'configuration');
    id(c, 'resource_id', 'configuration');
    const s = object(c, 'software', 'configuration', '{id, name, version, derivation_path}');
    id(s, 'id', 'configuration.software');
    text(s, 'name', 'configuration.software');
    text(s, 'version', 'configuration.software');
    optionalText(s, 'derivation_path', 'configuration.software');
    if (c.configuration_data === undefined) {
      throw new FieldProblem('configuration.configuration_data', 'any JSON value (null included)', undefined);
    }
    stringArray(c, 'dependencies', 'configuration');
  },
  PolicyApplied(d) {
    const p = object(d, 'policy', '', 'a policy object {id, name, scope, rules}');
    uuid(p, 'id', 'policy');
    text(p, 'name', 'policy');
    scope(p, 'policy');
    const rules = array(p, 'rules', 'policy', 'an array of rules');
    for (let k = 0; k < rules.length; k++) {
      const r = rules[k];
      const path = `policy.rules[${k}]`;
      if (!isObj(r)) throw new FieldProblem(path, 'a rule object {rule_type, condition, action}', r);
      oneOf(r, 'rule_type', path, RULE_TYPES);
      text(r, 'condition', path);
      text(r, 'action', path);
    }
  },
  ConnectionSevered(d) {
    connection(d.connection, 'connection');
    text(d, 'reason', '');
  },
  NetworkRemoved(d) {
    id(d, 'network_id', '');
    text(d, 'reason', '');
  },
};

/** The domain event's ids and time, common to every variant. */
function domainIds(d: Obj): void {
  uuid(d, 'event_id', '');
  uuid(d, 'correlation_id', '');
  if (optional(d, 'causation_id') && !isUuid(d.causation_id)) {
    throw new FieldProblem('causation_id', 'a uuid string or null', d.causation_id);
  }
  if (!isTimestamp(d.timestamp)) {
    throw new FieldProblem('timestamp', 'an RFC 3339 timestamp like "2025-01-01T00:00:00.123Z"', d.timestamp);
  }
}

const EXPECTED_TYPES = infrastructureEventTypes.join(', ');
const V2_EVENT_TYPES = new Set([
  'ResourceRegistered',
  'OrganizationAssigned',
  'LocationAssigned',
  'OwnerAssigned',
  'PolicyAdded',
  'PolicyRemoved',
  'AccountConceptAssigned',
  'AccountConceptCleared',
  'HardwareDetailsSet',
  'AssetTagAssigned',
  'MetadataUpdated',
  'StatusChanged',
]);
const V2_SUBJECT =
  /^infrastructure\.compute\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\./i;

function v2Error(where: string): InvalidEventError {
  return new InvalidEventError(
    `${where}: this is the crate's newer "v2" event shape (per-aggregate ComputeResourceEvent on ` +
      `infrastructure.compute.<aggregate uuid>.<event>, data {"aggregate_type": "compute_resource", "event": {...}}), ` +
      `which prosa does not read yet; expected the InfrastructureEvent contract of DESIGN 3.2: ` +
      `event_type one of ${EXPECTED_TYPES}, data {"<event_type>": {...}}`,
  );
}

/**
 * Decodes and validates one message of `INFRASTRUCTURE_EVENTS`: envelope (DESIGN 3.1) and payload
 * (3.2). Lenient where the contract says: causation ids may be null, `Option` fields and `updates`
 * keys may be missing (read as null), unknown extra fields are ignored, timestamps may have any
 * fraction length or an offset. Dispatches on the `data` tag, never on the subject.
 *
 * @throws InvalidEventError whose message says what was expected and what came: not UTF-8, not
 *   JSON, a bad envelope field, an unknown event type, a `data` tag that is not `event_type`, a
 *   missing or ill-typed payload field (with its JSON path), or the crate's newer "v2" shape.
 */
export function decodeInfrastructureEvent(raw: RawEvent): InfrastructureEvent {
  if (V2_SUBJECT.test(raw.subject)) throw v2Error(`subject ${raw.subject}`);
  const body = parseJsonBody(raw.data);
  assertEnvelopeFields(body);
  const type = body.event_type as string;
  const data = body.data;
  if (!isInfrastructureEventType(type)) {
    if (V2_EVENT_TYPES.has(type) || (isObj(data) && 'aggregate_type' in data))
      throw v2Error(`event_type "${type}"`);
    throw new InvalidEventError(
      `event_type "${type}" is not an infrastructure event; expected one of ${EXPECTED_TYPES}`,
    );
  }
  if (!isObj(data)) {
    throw new InvalidEventError(
      `data: expected {"${type}": {...}} (serde's externally tagged enum), got ${describeValue(data)}`,
    );
  }
  let tag: string | undefined;
  let tags = 0;
  for (const k in data) {
    tag = k;
    tags++;
  }
  if (tags !== 1 || tag !== type) {
    if ('aggregate_type' in data) throw v2Error(`data of ${type}`);
    throw new InvalidEventError(
      tags === 1
        ? `data is tagged "${tag}" but event_type is "${type}"; expected data {"${type}": {...}}`
        : `data: expected exactly one key, "${type}" (serde's externally tagged enum), got ${
            tags === 0
              ? 'none'
              : `keys ${Object.keys(data)
                  .map((k) => `"${k}"`)
                  .join(', ')}`
          }`,
    );
  }
  const payload = data[type];
  if (!isObj(payload)) {
    throw new InvalidEventError(`data.${type}: expected the ${type} object, got ${describeValue(payload)}`);
  }
  try {
    domainIds(payload);
    payloadCheckers[type](payload);
  } catch (e) {
    if (e instanceof FieldProblem) {
      throw new InvalidEventError(
        `data.${type}.${e.path}: expected ${e.expected}, got ${describeValue(e.got)}`,
      );
    }
    throw e;
  }
  return {
    type,
    event_id: body.event_id as string,
    aggregate_id: body.aggregate_id as string,
    sequence: body.sequence as number,
    timestamp: body.timestamp as string,
    correlation_id: body.correlation_id as string,
    causation_id: (body.causation_id as string | null | undefined) ?? null,
    event_type: type,
    data: payload,
    metadata: body.metadata ?? null,
  } as unknown as InfrastructureEvent;
}

// ---------------------------------------------------------------------------------------------
// Encoding: the exact JSON the crates publish (tests, the demo, benches)
// ---------------------------------------------------------------------------------------------

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
  const timestamp = options.timestamp ?? formatTimestamp(Date.now());
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
