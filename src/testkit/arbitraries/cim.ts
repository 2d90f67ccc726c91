/**
 * CIM infrastructure events (DESIGN 3.2) as fast-check arbitraries: wire bodies (the crates' exact
 * JSON, UTF-8) with their subjects and stream sequences, ready for `decode`, `checkProjection` or a
 * publish.
 *
 * - {@link infrastructureEvents}: valid, causally plausible sequences over a bounded id pool
 *   (registrations and re-registrations, updates with null and missing fields and for unknown ids,
 *   removals, interfaces, networks, topologies, connections and severed ones, network removal,
 *   software, policies), timestamps increasing with 0, 3, 6 or 9 fraction digits. Shrinks on the
 *   plan of steps, so a counterexample stays readable.
 * - The entities on their own ({@link computeResource}, {@link network}, {@link connection}, ...)
 *   to build sequences of one's own.
 */
import fc from 'fast-check';
import {
  buildInfrastructureEnvelope,
  type Cidr,
  type ComputeResource,
  type ComputeType,
  type Connection,
  type InfrastructureEventType,
  type InfrastructurePayloadInput,
  type Interface,
  infrastructureSubjects,
  type Network,
  type Policy,
  type PolicyScope,
  type ResourceCapabilities,
  type Rule,
  type RuleType,
  type SoftwareConfiguration,
} from '../../cim/infrastructure.js';
import type { RawEvent } from '../../define/projection.js';
import { hex, uuidV7, uuidV7Base } from './ids.js';
import {
  advanceInstant,
  EPOCH_S,
  type FractionDigits,
  type Instant,
  renderInstant,
  renderInstantAutoSi,
} from './time.js';

// ---------------------------------------------------------------------------------------------
// Envelopes and bodies
// ---------------------------------------------------------------------------------------------

/** The one infrastructure aggregate all generated events belong to. */
export const GENERATED_AGGREGATE_ID = '01900000-0000-7000-8000-000000000001';

/** Where a generated event sits in its stream: its time, how the time is written, its index. */
export interface EnvelopeIds {
  at: Instant;
  timestamp: string;
  index: number;
  causationNull?: boolean;
  extraFields?: boolean;
}

/** The envelope object of one generated event (ids derived from its index and time). */
export function cimEnvelope<T extends InfrastructureEventType>(
  type: T,
  payload: InfrastructurePayloadInput<T>,
  ids: EnvelopeIds,
) {
  const ms = ids.at.s * 1000 + Math.floor(ids.at.ns / 1e6);
  const base = uuidV7Base(ms, ids.index);
  const env = buildInfrastructureEnvelope(
    type,
    {
      ...payload,
      event_id: `${base}0000000001`,
      correlation_id: `${base}0000000002`,
      causation_id: ids.index > 0 ? `${base}0000000006` : null,
      timestamp: renderInstantAutoSi(ids.at),
    },
    {
      aggregateId: GENERATED_AGGREGATE_ID,
      eventId: `${base}0000000003`,
      correlationId: `${base}0000000004`,
      causationId: ids.causationNull ? null : `${base}0000000005`,
      timestamp: ids.timestamp,
    },
  );
  if (ids.extraFields) {
    // Fields a newer crate might add: a reader must ignore them.
    (env as unknown as Record<string, unknown>).schema_version = 2;
    (env.data as unknown as Record<string, Record<string, unknown>>)[type]!.x_trace = { origin: 'generated' };
  }
  return env;
}

// Bodies are written into shared 4 MiB slabs and handed out as views, rather than one allocation
// per body: the seed generator makes 200,000 of them.
const SLAB_BYTES = 4 * 1024 * 1024;
const textEncoder = new TextEncoder();
let slab = new Uint8Array(0);
let slabOffset = 0;

export function utf8(text: string): Uint8Array {
  const max = text.length * 3;
  if (slabOffset + max > slab.length) {
    slab = new Uint8Array(Math.max(SLAB_BYTES, max));
    slabOffset = 0;
  }
  const written = textEncoder.encodeInto(text, slab.subarray(slabOffset)).written;
  const view = slab.subarray(slabOffset, slabOffset + written);
  slabOffset += written;
  return view;
}

export const wire = (type: InfrastructureEventType, body: unknown, seq: number): RawEvent => ({
  subject: infrastructureSubjects[type],
  seq,
  data: utf8(JSON.stringify(body)),
});

// ---------------------------------------------------------------------------------------------
// The arbitrary: a plan of steps over an id pool, made into wire events by a small state tracker
// ---------------------------------------------------------------------------------------------

export interface InfrastructureSequenceOptions {
  /** @default 0 */
  minEvents?: number;
  /** @default 40 */
  maxEvents?: number;
  /** Compute resource ids in the pool (a few are odd on purpose: `__proto__`, `edge:1`). @default 5 */
  resources?: number;
  /** @default 3 */
  networks?: number;
  /** Interfaces per resource. @default 2 */
  interfaces?: number;
  /** Software configuration ids (uuids) in the pool. @default 3 */
  configurations?: number;
  /** Policy ids (uuids) in the pool. @default 3 */
  policies?: number;
}

const ODD_RESOURCE_IDS = ['web-1', 'db-1', '__proto__', 'edge:1', 'ü-node'];
const resourceIdAt = (i: number): string => ODD_RESOURCE_IDS[i] ?? `r-${i}`;
const networkIdAt = (i: number): string => ['lan', 'wan', 'mgmt'][i] ?? `net-${i}`;
const interfaceIdAt = (r: number, k: number): string => `${resourceIdAt(r)}.eth${k}`;
const configurationIdAt = (i: number): string => `0190c000-0000-7000-8000-${hex(i + 1, 12)}`;
const policyIdAt = (i: number): string => `0190d000-0000-7000-8000-${hex(i + 1, 12)}`;
const topologyIdAt = (i: number): string => `0190e000-0000-7000-8000-${hex(i + 1, 12)}`;

type Metadata = Record<string, string>;
interface NetworkPlan {
  n: number;
  name: string;
  v4: Cidr | null;
  v6: Cidr | null;
}
interface ConnectionPlan {
  a: number;
  ai: number;
  b: number;
  bi: number;
}
type ScopePlan = { kind: 'Global' } | { kind: 'Resource'; r: number } | { kind: 'Network'; n: number };
type UpdateKey = 'hostname' | 'capabilities' | 'metadata';

type Step =
  | {
      kind: 'register';
      r: number;
      resource_type: ComputeType;
      hostname: string;
      system: string;
      capabilities: ResourceCapabilities;
    }
  | {
      kind: 'update';
      r: number;
      known: boolean;
      hostname: string | null;
      capabilities: ResourceCapabilities | null;
      metadata: Metadata | null;
      omit: UpdateKey[];
    }
  | { kind: 'remove'; r: number; known: boolean; reason: string }
  | { kind: 'interface'; r: number; k: number; network: number | null; addresses: string[] }
  | { kind: 'network'; network: NetworkPlan }
  | { kind: 'topology'; topology: number; networks: NetworkPlan[]; connections: ConnectionPlan[] }
  | { kind: 'connect'; connection: ConnectionPlan }
  | { kind: 'sever'; known: boolean; pick: number; connection: ConnectionPlan; reason: string }
  | { kind: 'removeNetwork'; n: number; reason: string }
  | {
      kind: 'software';
      c: number;
      r: number;
      software: string;
      version: string;
      derivation: string | null;
      data: unknown;
      dependencies: string[];
    }
  | { kind: 'policy'; p: number; name: string; scope: ScopePlan; rules: Rule[] };

interface Timing {
  deltaNs: number;
  digits: FractionDigits;
  offset: number;
  causationNull: boolean;
  extraFields: boolean;
}

/** Building blocks, also for tests that need one valid piece. */
export const metadataArb: fc.Arbitrary<Metadata> = fc.dictionary(
  fc.constantFrom('rack', 'role', 'env', 'owner', '__proto__', 'zone name'),
  fc.string({ maxLength: 8 }),
  { maxKeys: 3 },
);

const count = (max: number) => fc.option(fc.nat({ max }), { nil: null, freq: 3 });

export const capabilitiesArb: fc.Arbitrary<ResourceCapabilities> = fc.record({
  cpu_cores: count(256),
  memory_mb: count(1_048_576),
  storage_gb: count(100_000),
  metadata: metadataArb,
});

export const cidrV4Arb: fc.Arbitrary<Cidr> = fc.record({
  address: fc.ipV4(),
  prefix_len: fc.integer({ min: 0, max: 32 }),
});
export const cidrV6Arb: fc.Arbitrary<Cidr> = fc.record({
  address: fc.ipV6(),
  prefix_len: fc.integer({ min: 0, max: 128 }),
});

export const ruleArb: fc.Arbitrary<Rule> = fc.record({
  rule_type: fc.constantFrom<RuleType>('Security', 'Access', 'Compliance', 'Performance'),
  condition: fc.constantFrom('port == 22', 'env == "prod"', 'always', ''),
  action: fc.constantFrom('deny', 'allow', 'alert'),
});

export const hostnameArb: fc.Arbitrary<string> = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}(\.example\.com)?$/);

const reasonArb = fc.constantFrom('retired', 'hardware failure', 'moved to another rack', '');

// ---------------------------------------------------------------------------------------------
// The entities on their own
// ---------------------------------------------------------------------------------------------

/** Resource ids as the crates allow them: free strings, including awkward ones (`__proto__`, `edge:1`). */
export const resourceId = (): fc.Arbitrary<string> =>
  fc.oneof(fc.constantFrom(...ODD_RESOURCE_IDS), hostnameArb);

/** A `ComputeResource` (the `ComputeResourceRegistered` payload's `resource`). */
export function computeResource(options: { id?: fc.Arbitrary<string> } = {}): fc.Arbitrary<ComputeResource> {
  return fc
    .record({
      id: options.id ?? resourceId(),
      resource_type: fc.constantFrom<ComputeType>('Physical', 'VirtualMachine', 'Container'),
      hostname: hostnameArb,
      system: fc.constantFrom('x86_64-linux', 'aarch64-linux', 'aarch64-darwin'),
      capabilities: capabilitiesArb,
      services: fc.subarray(['sshd', 'nginx', 'postgresql']),
      guests: fc.array(resourceId(), { maxLength: 2 }),
    })
    .map((r) => ({ ...r, interfaces: [`${r.id}.eth0`] }));
}

/** A `Network` with an IPv4 and/or IPv6 CIDR, or neither. */
export function network(options: { id?: fc.Arbitrary<string> } = {}): fc.Arbitrary<Network> {
  return fc.record({
    id: options.id ?? fc.constantFrom('lan', 'wan', 'mgmt', 'storage'),
    name: fc.constantFrom('LAN', 'WAN', 'management', 'storage net'),
    cidr_v4: fc.option(cidrV4Arb, { nil: null }),
    cidr_v6: fc.option(cidrV6Arb, { nil: null }),
  });
}

/** A `NetworkInterface` on a resource, maybe on a network, with 0-2 addresses. */
export function networkInterface(
  options: { resourceId?: fc.Arbitrary<string>; networkId?: fc.Arbitrary<string> } = {},
): fc.Arbitrary<Interface> {
  return fc
    .record({
      resource_id: options.resourceId ?? resourceId(),
      k: fc.nat({ max: 3 }),
      network_id: fc.option(options.networkId ?? fc.constantFrom('lan', 'wan', 'mgmt'), { nil: null }),
      addresses: fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { maxLength: 2 }),
    })
    .map(({ k, ...i }) => ({ id: `${i.resource_id}.eth${k}`, ...i }));
}

/** A `PhysicalConnection` between interfaces of two resources. */
export function connection(options: { resourceId?: fc.Arbitrary<string> } = {}): fc.Arbitrary<Connection> {
  const end = fc.tuple(options.resourceId ?? resourceId(), fc.nat({ max: 3 }));
  return fc.tuple(end, end).map(([[a, ai], [b, bi]]) => ({
    from_resource: a,
    from_interface: `${a}.eth${ai}`,
    to_resource: b,
    to_interface: `${b}.eth${bi}`,
  }));
}

/** A `SoftwareConfiguration` (uuid id) of a resource. */
export function softwareConfiguration(
  options: { resourceId?: fc.Arbitrary<string> } = {},
): fc.Arbitrary<SoftwareConfiguration> {
  return fc.record({
    id: uuidV7(),
    resource_id: options.resourceId ?? resourceId(),
    software: fc.record({
      id: fc.constantFrom('nginx', 'postgresql', 'nats-server'),
      name: fc.constantFrom('nginx', 'postgresql', 'nats-server'),
      version: fc.constantFrom('1.0.0', '2.10.7', '16.4'),
      derivation_path: fc.option(fc.constant('/nix/store/abc-nginx-1.26.0'), { nil: null }),
    }),
    configuration_data: fc.jsonValue({ maxDepth: 2 }),
    dependencies: fc.subarray(['openssl', 'zlib', 'glibc']),
  });
}

/** A `PolicyRule` (uuid id), global or scoped to a resource or a network. */
export function policy(options: { resourceId?: fc.Arbitrary<string> } = {}): fc.Arbitrary<Policy> {
  return fc.record({
    id: uuidV7(),
    name: fc.constantFrom('ssh-lockdown', 'prod-access', 'PCI'),
    scope: fc.oneof(
      fc.constant<PolicyScope>('Global'),
      (options.resourceId ?? resourceId()).map((id): PolicyScope => ({ Resource: id })),
      fc.constantFrom('lan', 'wan').map((id): PolicyScope => ({ Network: id })),
    ),
    rules: fc.array(ruleArb, { maxLength: 3 }),
  });
}

function stepArb(o: Required<InfrastructureSequenceOptions>): fc.Arbitrary<Step> {
  const r = fc.nat({ max: o.resources - 1 });
  const n = fc.nat({ max: o.networks - 1 });
  const k = fc.nat({ max: o.interfaces - 1 });
  const networkPlan: fc.Arbitrary<NetworkPlan> = fc.record({
    n,
    name: fc.constantFrom('LAN', 'WAN', 'management', 'storage net'),
    v4: fc.option(cidrV4Arb, { nil: null }),
    v6: fc.option(cidrV6Arb, { nil: null }),
  });
  const connectionPlan: fc.Arbitrary<ConnectionPlan> = fc.record({ a: r, ai: k, b: r, bi: k });
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('register' as const),
        r,
        resource_type: fc.constantFrom<ComputeType>('Physical', 'VirtualMachine', 'Container'),
        hostname: hostnameArb,
        system: fc.constantFrom('x86_64-linux', 'aarch64-linux', 'aarch64-darwin'),
        capabilities: capabilitiesArb,
      }),
    },
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('update' as const),
        r,
        known: fc.boolean(),
        hostname: fc.option(hostnameArb, { nil: null }),
        capabilities: fc.option(capabilitiesArb, { nil: null }),
        metadata: fc.option(metadataArb, { nil: null }),
        omit: fc.subarray<UpdateKey>(['hostname', 'capabilities', 'metadata']),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('remove' as const),
        r,
        known: fc.boolean(),
        reason: reasonArb,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('interface' as const),
        r,
        k,
        network: fc.option(n, { nil: null }),
        addresses: fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { maxLength: 2 }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('network' as const), network: networkPlan }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('topology' as const),
        topology: fc.nat({ max: 2 }),
        networks: fc.array(networkPlan, { maxLength: 3 }),
        connections: fc.array(connectionPlan, { maxLength: 3 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('connect' as const), connection: connectionPlan }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('sever' as const),
        known: fc.boolean(),
        pick: fc.nat(),
        connection: connectionPlan,
        reason: reasonArb,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('removeNetwork' as const), n, reason: reasonArb }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('software' as const),
        c: fc.nat({ max: o.configurations - 1 }),
        r,
        software: fc.constantFrom('nginx', 'postgresql', 'nats-server'),
        version: fc.constantFrom('1.0.0', '2.10.7', '16.4'),
        derivation: fc.option(fc.constant('/nix/store/abc-nginx-1.26.0'), { nil: null }),
        data: fc.jsonValue({ maxDepth: 2 }),
        dependencies: fc.subarray(['openssl', 'zlib', 'glibc']),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('policy' as const),
        p: fc.nat({ max: o.policies - 1 }),
        name: fc.constantFrom('ssh-lockdown', 'prod-access', 'PCI'),
        scope: fc.oneof(
          fc.constant({ kind: 'Global' as const }),
          fc.record({ kind: fc.constant('Resource' as const), r }),
          fc.record({ kind: fc.constant('Network' as const), n }),
        ),
        rules: fc.array(ruleArb, { maxLength: 3 }),
      }),
    },
  );
}

/** Time between events and how its timestamp is written; now and then a null causation or extra fields. */
const timingArb: fc.Arbitrary<Timing> = fc.record({
  deltaNs: fc.integer({ min: 1, max: 3_000_000_000 }),
  digits: fc.constantFrom<FractionDigits>(0, 3, 6, 9),
  offset: fc.oneof(
    { weight: 6, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.constantFrom(120, -330, 60) },
  ),
  causationNull: fc.oneof(
    { weight: 9, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
  extraFields: fc.oneof(
    { weight: 9, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
});

export interface InfrastructureEventsOptions
  extends Omit<InfrastructureSequenceOptions, 'minEvents' | 'maxEvents'> {
  /** How many events: at most `n`, or a range. @default { min: 0, max: 40 } */
  events?: number | { min?: number; max?: number };
}

/**
 * Valid, causally plausible sequences of CIM infrastructure events on the wire, in stream order
 * (`seq` 1..n), over a pool of `resources` compute resources (and networks, interfaces, software
 * and policies): registrations and re-registrations, updates (null and missing fields, unknown
 * ids), removals, interfaces, networks and topologies, connections made and severed, network
 * removal, software and policies. Timestamps increase, written with 0, 3, 6 or 9 fraction digits
 * and now and then at an offset. Shrinks to few, simple events.
 *
 * @example checkProjection(topology, { events: arbitraries.cim.infrastructureEvents({ resources: 4, events: 60 }) })
 */
export function infrastructureEvents(options: InfrastructureEventsOptions = {}): fc.Arbitrary<RawEvent[]> {
  const { events, ...pool } = options;
  const range = typeof events === 'number' ? { max: events } : (events ?? {});
  return infrastructureEventSequence({ ...pool, minEvents: range.min ?? 0, maxEvents: range.max ?? 40 });
}

/**
 * {@link infrastructureEvents} with the event count as `minEvents`/`maxEvents`. Updates, removals
 * and severings mostly concern entities that exist, sometimes ones that never did; connections
 * join interfaces of pool resources; re-registrations, repeated definitions and duplicate entries
 * in a topology occur.
 */
export function infrastructureEventSequence(
  options: InfrastructureSequenceOptions = {},
): fc.Arbitrary<RawEvent[]> {
  const o: Required<InfrastructureSequenceOptions> = {
    minEvents: 0,
    maxEvents: 40,
    resources: 5,
    networks: 3,
    interfaces: 2,
    configurations: 3,
    policies: 3,
    ...options,
  };
  const timed = fc.record({ step: stepArb(o), timing: timingArb });
  return fc
    .array(timed, { minLength: o.minEvents, maxLength: o.maxEvents, size: 'max' })
    .map((plan) => readable(materialize(plan)));
}

/** Lets fast-check print a counterexample's bodies as text rather than as byte arrays. */
function readable(events: RawEvent[]): RawEvent[] {
  for (const e of events) {
    Object.defineProperty(e, fc.toStringMethod, {
      value: () => `#${e.seq} ${e.subject} ${Buffer.from(e.data).toString('utf8')}`,
      enumerable: false,
    });
  }
  return events;
}

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

function materialize(plan: readonly { step: Step; timing: Timing }[]): RawEvent[] {
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
