/**
 * The decoder every projection and saga of `INFRASTRUCTURE_EVENTS` uses: it validates one message
 * (envelope and payload) and returns the typed event of ./infrastructureEvents.ts.
 *
 * The decoder is on the hot path: the checks are hand-written, build nothing on success but the
 * decoded event (the payload objects are the parsed ones, not copies), and name on failure the JSON
 * path, what was expected and what came.
 *
 * This module is also where callers import the events' types and the encoder from: it re-exports them.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { RawEvent } from '../define/projection.js';
import { InvalidEventError } from '../errors.js';
import { assertEnvelopeFields, describeValue, isTimestamp, isUuid, parseJsonBody } from './envelope.js';
import {
  type ComputeType,
  type InfrastructureEvent,
  type InfrastructureEventType,
  infrastructureEventTypes,
  isInfrastructureEventType,
  type RuleType,
} from './infrastructureEvents.js';

export {
  buildInfrastructureEnvelope,
  defaultInfrastructureId,
  type EncodedEvent,
  type EncodeOptions,
  encodeInfrastructureEvent,
  type InfrastructurePayloadInput,
  makeComputeResource,
  makeConnection,
  makeInterface,
  makeNetwork,
  makePolicy,
  makeSoftwareConfiguration,
  type TaggedPayload,
} from './infrastructureEncoder.js';
export {
  type Cidr,
  type ComputeResource,
  type ComputeType,
  type Connection,
  connectionId,
  type DomainEventIds,
  type InfrastructureEnvelope,
  type InfrastructureEvent,
  type InfrastructureEventOf,
  type InfrastructureEventType,
  type InfrastructurePayload,
  type InfrastructurePayloads,
  type Interface,
  infrastructureEventTypes,
  infrastructureSubjects,
  isInfrastructureEventType,
  type Network,
  type Policy,
  type PolicyScope,
  type ResourceCapabilities,
  type ResourceUpdates,
  type Rule,
  type RuleType,
  type SoftwareArtifact,
  type SoftwareConfiguration,
} from './infrastructureEvents.js';

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

/** Checks the entity ids of a variant (what `keys` and `correlate` read); throws FieldProblem. */
const idCheckers: { readonly [T in InfrastructureEventType]: (d: Obj) => void } = {
  ComputeResourceRegistered: (d) => id(object(d, 'resource', '', 'an object'), 'id', 'resource'),
  ResourceUpdated: (d) => id(d, 'resource_id', ''),
  ResourceRemoved: (d) => id(d, 'resource_id', ''),
  InterfaceAdded(d) {
    const i = object(d, 'interface', '', 'an object');
    id(i, 'id', 'interface');
    id(i, 'resource_id', 'interface');
  },
  NetworkDefined: (d) => id(object(d, 'network', '', 'an object'), 'id', 'network'),
  NetworkTopologyDefined(d) {
    for (const n of array(d, 'networks', '', 'an array')) {
      if (!isObj(n)) throw new FieldProblem('networks', 'objects', n);
      id(n, 'id', 'networks');
    }
    for (const c of array(d, 'connections', '', 'an array')) connection(c, 'connections');
  },
  ResourcesConnected: (d) => connection(d.connection, 'connection'),
  ConnectionSevered: (d) => connection(d.connection, 'connection'),
  SoftwareConfigured(d) {
    const c = object(d, 'configuration', '', 'an object');
    id(c, 'id', 'configuration');
    id(c, 'resource_id', 'configuration');
  },
  PolicyApplied: (d) => id(object(d, 'policy', '', 'an object'), 'id', 'policy'),
  NetworkRemoved: (d) => id(d, 'network_id', ''),
};

/** Whether a variant's entity ids are good, whatever the rest of it is. */
function idsValid(type: InfrastructureEventType, d: Obj): boolean {
  try {
    idCheckers[type](d);
    return true;
  } catch {
    return false;
  }
}

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
      `which prosa does not read yet; expected an infrastructure event as docs/wire-format.md describes it: ` +
      `event_type one of ${EXPECTED_TYPES}, data {"<event_type>": {...}}`,
  );
}

/**
 * Decodes and validates one message of `INFRASTRUCTURE_EVENTS`: envelope and payload.
 * Lenient where the contract says: causation ids may be null, `Option` fields and `updates`
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
      // The entity ids may still be good: then the event names its entities (their later events
      // wait behind its dead letter).
      const partialEvent = idsValid(type, payload) ? eventOf(body, type, payload) : undefined;
      throw new InvalidEventError(
        `data.${type}.${e.path}: expected ${e.expected}, got ${describeValue(e.got)}`,
        { partialEvent },
      );
    }
    throw e;
  }
  return eventOf(body, type, payload);
}

/** The decoded event: the envelope's fields and the (checked, or for a partial event unchecked) payload. */
function eventOf(body: Obj, type: InfrastructureEventType, payload: Obj): InfrastructureEvent {
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
