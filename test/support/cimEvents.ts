/**
 * CIM infrastructure events as they come off `INFRASTRUCTURE_EVENTS`: wire bodies (the crates'
 * exact JSON, UTF-8) with their subjects and stream sequences, ready for `decode` or a publish.
 *
 * - {@link infrastructureEventSequence}: a fast-check arbitrary of valid, causally plausible
 *   sequences over a bounded id pool (registrations and re-registrations, updates with null and
 *   missing fields and for unknown ids, removals, interfaces, networks, topologies, connections and
 *   severed ones, network removal, software, policies), timestamps increasing with 0, 3, 6 or 9
 *   fraction digits. Shrinks on the plan of steps, so a counterexample stays readable.
 * - {@link seedInfrastructureEvents}: a plain deterministic generator for benches and fault tests
 *   (200,000 events over 10,000 keys in about 0.7 s, 1.3 s on a busy two-core machine).
 * - {@link badInfrastructureEvents}: messages the decoder must refuse, each with the reason it gives.
 */
import fc from 'fast-check';
import {
  buildInfrastructureEnvelope,
  type Cidr,
  type ComputeType,
  type Connection,
  type InfrastructureEventType,
  type InfrastructurePayloadInput,
  infrastructureSubjects,
  type PolicyScope,
  type ResourceCapabilities,
  type Rule,
  type RuleType,
} from '../../src/cim/infrastructure.js';
import type { RawEvent } from '../../src/projection.js';

// ---------------------------------------------------------------------------------------------
// Ids, times and bodies
// ---------------------------------------------------------------------------------------------

/** The one infrastructure aggregate all generated events belong to. */
export const GENERATED_AGGREGATE_ID = '01900000-0000-7000-8000-000000000001';

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0').slice(-width);

/**
 * A deterministic UUID v7: the 48-bit millisecond time, then `a` and `b` where v7 has randomness.
 * Generated events stay reproducible (fast-check replays, bench seeds) and still look like the
 * crate's ids.
 */
export function deterministicUuidV7(ms: number, a: number, b = 0): string {
  return `${uuidV7Base(ms, a)}${hex(b, 10)}`;
}

/** All of a {@link deterministicUuidV7} but its last 10 hex digits. */
function uuidV7Base(ms: number, a: number): string {
  const t = hex(Math.floor(ms), 12);
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${hex(a >>> 20, 3)}-${hex(0x8000 | ((a >>> 8) & 0xfff), 4)}-${hex(a & 0xff, 2)}`;
}

/** Instants are kept as [whole seconds, nanoseconds] so 9 fraction digits stay exact. */
interface Instant {
  s: number;
  ns: number;
}

export type FractionDigits = 0 | 3 | 6 | 9;

/** Moves `t` on by `deltaNs` (>= 1) and rounds up to what `digits` can write, so text stays exact. */
function advance(t: Instant, deltaNs: number, digits: FractionDigits): Instant {
  let s = t.s + Math.floor(deltaNs / 1e9);
  let ns = t.ns + (deltaNs % 1e9);
  const unit = 10 ** (9 - digits);
  ns = Math.ceil(ns / unit) * unit;
  while (ns >= 1e9) {
    s += 1;
    ns -= 1e9;
  }
  return { s, ns };
}

// The date-time part of the last whole second rendered in UTC: events come in time order, so
// most renders reuse it (toISOString per event was a third of the seed generator's time).
let cachedSecond = Number.NaN;
let cachedPrefix = '';

/** RFC 3339 text of an instant with `digits` fraction digits, in UTC (`Z`) or at an offset. */
function render(t: Instant, digits: FractionDigits, offsetMinutes = 0): string {
  const fraction = digits === 0 ? '' : `.${String(t.ns).padStart(9, '0').slice(0, digits)}`;
  if (offsetMinutes === 0) {
    if (t.s !== cachedSecond) {
      cachedSecond = t.s;
      cachedPrefix = new Date(t.s * 1000).toISOString().slice(0, 19);
    }
    return `${cachedPrefix}${fraction}Z`;
  }
  const local = new Date((t.s + offsetMinutes * 60) * 1000).toISOString().slice(0, 19);
  const abs = Math.abs(offsetMinutes);
  const zone = `${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${local}${fraction}${zone}`;
}

/** As chrono writes a `DateTime<Utc>`: `Z` and the fewest of 0, 3, 6 or 9 digits that are exact. */
function renderAutoSi(t: Instant): string {
  const digits: FractionDigits = t.ns === 0 ? 0 : t.ns % 1e6 === 0 ? 3 : t.ns % 1e3 === 0 ? 6 : 9;
  return render(t, digits);
}

/** 2025-06-01T00:00:00Z */
const EPOCH_S = 1_748_736_000;

interface EnvelopeIds {
  at: Instant;
  timestamp: string;
  index: number;
  causationNull?: boolean;
  extraFields?: boolean;
}

/** The envelope object of one generated event (ids derived from its index and time). */
function envelope<T extends InfrastructureEventType>(
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
      timestamp: renderAutoSi(ids.at),
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

function utf8(text: string): Uint8Array {
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

const wire = (type: InfrastructureEventType, body: unknown, seq: number): RawEvent => ({
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

/**
 * Valid, causally plausible sequences of CIM infrastructure events on the wire, in stream order
 * (`seq` 1..n). Updates, removals and severings mostly concern entities that exist, sometimes ones
 * that never did; connections join interfaces of pool resources; re-registrations, repeated
 * definitions and duplicate entries in a topology occur.
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
    t = advance(t, timing.deltaNs, timing.digits);
    const ids: EnvelopeIds = {
      at: t,
      timestamp: render(t, timing.digits, timing.offset),
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
      return wire('ComputeResourceRegistered', envelope('ComputeResourceRegistered', { resource }, ids), seq);
    }
    case 'update': {
      const body = envelope(
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
        envelope(
          'ResourceRemoved',
          { resource_id: resourceIdAt(pickResource(step.r, step.known)), reason: step.reason },
          ids,
        ),
        seq,
      );
    case 'interface':
      return wire(
        'InterfaceAdded',
        envelope(
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
        envelope('NetworkDefined', { network: networkOf(step.network) }, ids),
        seq,
      );
    case 'topology': {
      const connections = step.connections.map(connectionOf);
      made.push(...connections);
      return wire(
        'NetworkTopologyDefined',
        envelope(
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
      return wire('ResourcesConnected', envelope('ResourcesConnected', { connection }, ids), seq);
    }
    case 'sever': {
      const connection =
        step.known && made.length > 0
          ? (made[step.pick % made.length] as Connection)
          : connectionOf(step.connection);
      return wire(
        'ConnectionSevered',
        envelope('ConnectionSevered', { connection, reason: step.reason }, ids),
        seq,
      );
    }
    case 'removeNetwork':
      return wire(
        'NetworkRemoved',
        envelope('NetworkRemoved', { network_id: networkIdAt(step.n), reason: step.reason }, ids),
        seq,
      );
    case 'software':
      return wire(
        'SoftwareConfigured',
        envelope(
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
        envelope(
          'PolicyApplied',
          { policy: { id: policyIdAt(step.p), name: step.name, scope, rules: step.rules } },
          ids,
        ),
        seq,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The seeded generator: plain, deterministic and fast
// ---------------------------------------------------------------------------------------------

export interface SeedOptions {
  /** Distinct entity keys the events touch (every key is created by one of the first `keys` events). @default 10_000 */
  keys?: number;
  /** @default 1 */
  seed?: number;
}

/** mulberry32: a small, fast, seedable PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return (x ^ (x >>> 14)) >>> 0;
  };
}

/** Which kind of entity key `k` is: 55% resources, 15% interfaces, 10% networks, 10% connections, 5% software, 5% policies. */
type SeedKind = 'resource' | 'interface' | 'network' | 'connection' | 'software' | 'policy';
function seedKind(k: number): SeedKind {
  const m = k % 20;
  if (m <= 10) return 'resource';
  if (m <= 13) return 'interface';
  if (m <= 15) return 'network';
  if (m <= 17) return 'connection';
  return m === 18 ? 'software' : 'policy';
}

const ROLES = ['web', 'db', 'cache', 'queue', 'batch'];
const SYSTEMS = ['x86_64-linux', 'aarch64-linux'];

/**
 * `n` CIM infrastructure events on the wire over `keys` entity keys, the same for the same seed:
 * every key is created first (registration, definition, connection, ...), then keys are picked at
 * random and given a plausible next event (updates, removals and re-registrations of resources,
 * severed and re-made connections, network removal and redefinition, topologies, new software
 * versions, policy changes). Bodies are ~400-700 bytes, like the figures in NATS-NOTES.md.
 *
 * @example seedInfrastructureEvents(200_000, { keys: 10_000, seed: 7 }) // RawEvent[] with seq 1..200000
 */
export function seedInfrastructureEvents(n: number, options: SeedOptions = {}): RawEvent[] {
  const keys = Math.max(1, options.keys ?? 10_000);
  const next = prng(options.seed ?? 1);
  const created = new Uint8Array(keys); // 0 never, 1 live, 2 removed/severed
  const out = new Array<RawEvent>(n);
  let t: Instant = { s: EPOCH_S, ns: 0 };
  const resourceOf = (k: number) => `srv-${k - (k % 20)}`; // each block of 20 keys has one resource at its start
  const connectionOfKey = (k: number): Connection => ({
    from_resource: resourceOf(k),
    from_interface: 'eth0',
    to_resource: `srv-${(k - (k % 20) + 20) % (keys - (keys % 20) || 20)}`,
    to_interface: `port-${k}`,
  });
  const networkOfKey = (k: number) => {
    const third = (k >>> 8) & 0xff;
    const fourth = k & 0xff;
    return {
      id: `net-${k}`,
      name: `net ${k}`,
      cidr_v4: { address: `10.${third}.${fourth}.0`, prefix_len: 24 },
      cidr_v6: k % 3 === 0 ? { address: `fd00:${k.toString(16)}::`, prefix_len: 64 } : null,
    };
  };

  for (let i = 0; i < n; i++) {
    const digits = ([0, 3, 6, 9] as const)[next() & 3] as FractionDigits;
    t = advance(t, 1 + (next() % 5_000_000), digits);
    const ids: EnvelopeIds = { at: t, timestamp: render(t, digits), index: i };
    const k = i < keys ? i : next() % keys;
    const state = created[k] as number;
    const roll = next() % 100;
    let type: InfrastructureEventType;
    let body: unknown;
    switch (seedKind(k)) {
      case 'resource': {
        const id = `srv-${k}`;
        if (state === 0 || state === 2 || roll < 8) {
          created[k] = 1;
          type = 'ComputeResourceRegistered';
          body = envelope(
            type,
            {
              resource: {
                id,
                resource_type: k % 3 === 0 ? 'VirtualMachine' : 'Physical',
                hostname: `${id}.dc1.example.com`,
                system: SYSTEMS[k & 1] as string,
                capabilities: {
                  cpu_cores: 2 ** (1 + (roll % 6)),
                  memory_mb: 1024 * (1 + (roll % 64)),
                  storage_gb: roll % 5 === 0 ? null : 100 * (1 + (roll % 20)),
                  metadata: {
                    rack: `r${k % 40}`,
                    role: ROLES[k % ROLES.length] as string,
                    env: roll < 50 ? 'prod' : 'staging',
                  },
                },
                interfaces: [`${id}.eth0`],
                services: [],
                guests: [],
              },
            },
            ids,
          );
        } else if (roll < 90) {
          type = 'ResourceUpdated';
          body = envelope(
            type,
            {
              resource_id: id,
              updates: {
                hostname: roll % 4 === 0 ? `${id}-${roll}.dc1.example.com` : null,
                capabilities:
                  roll % 3 === 0
                    ? {
                        cpu_cores: 2 ** (1 + (roll % 6)),
                        memory_mb: 2048 * (1 + (roll % 32)),
                        storage_gb: null,
                        metadata: {},
                      }
                    : null,
                metadata: roll % 2 === 0 ? { rack: `r${roll % 40}`, patched: String(i) } : null,
              },
            },
            ids,
          );
        } else {
          created[k] = 2;
          type = 'ResourceRemoved';
          body = envelope(type, { resource_id: id, reason: 'decommissioned by the seed' }, ids);
        }
        break;
      }
      case 'interface': {
        created[k] = 1;
        type = 'InterfaceAdded';
        body = envelope(
          type,
          {
            interface: {
              id: `${resourceOf(k)}.if${k}`,
              resource_id: resourceOf(k),
              network_id: `net-${k - (k % 20) + 14}`,
              addresses: [`10.${(k >>> 8) & 0xff}.${k & 0xff}.${1 + (roll % 250)}`],
            },
          },
          ids,
        );
        break;
      }
      case 'network': {
        if (state === 1 && roll < 20) {
          created[k] = 2;
          type = 'NetworkRemoved';
          body = envelope(type, { network_id: `net-${k}`, reason: 'retired by the seed' }, ids);
        } else if (state === 1 && roll < 30) {
          type = 'NetworkTopologyDefined';
          const c = k - (k % 20) + 16; // the connection keys of this block
          body = envelope(
            type,
            {
              topology_id: deterministicUuidV7(t.s * 1000, i, 9),
              networks: [networkOfKey(k)],
              connections: c < keys ? [connectionOfKey(c)] : [],
            },
            ids,
          );
          if (c < keys) created[c] = 1;
        } else {
          created[k] = 1;
          type = 'NetworkDefined';
          body = envelope(type, { network: networkOfKey(k) }, ids);
        }
        break;
      }
      case 'connection': {
        if (state === 1 && roll < 40) {
          created[k] = 2;
          type = 'ConnectionSevered';
          body = envelope(type, { connection: connectionOfKey(k), reason: 'cable pulled by the seed' }, ids);
        } else {
          created[k] = 1;
          type = 'ResourcesConnected';
          body = envelope(type, { connection: connectionOfKey(k) }, ids);
        }
        break;
      }
      case 'software': {
        created[k] = 1;
        type = 'SoftwareConfigured';
        body = envelope(
          type,
          {
            configuration: {
              id: deterministicUuidV7(0, k, 0xc0ffee),
              resource_id: resourceOf(k),
              software: { id: 'nginx', name: 'nginx', version: `1.${roll % 30}.0`, derivation_path: null },
              configuration_data: { worker_processes: 1 + (roll % 8), listen: [80, 443] },
              dependencies: ['openssl'],
            },
          },
          ids,
        );
        break;
      }
      case 'policy': {
        created[k] = 1;
        type = 'PolicyApplied';
        body = envelope(
          type,
          {
            policy: {
              id: deterministicUuidV7(0, k, 0xfee),
              name: `policy ${k}`,
              scope: roll < 50 ? 'Global' : { Resource: resourceOf(k) },
              rules: [
                { rule_type: 'Security', condition: `port == ${roll}`, action: roll < 50 ? 'deny' : 'allow' },
              ],
            },
          },
          ids,
        );
        break;
      }
    }
    out[i] = wire(type, body, i + 1);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Bad input: messages the decoder must dead-letter, with the reason it must give
// ---------------------------------------------------------------------------------------------

export interface BadInfrastructureSample {
  /** What is wrong, in words (also the test name). */
  name: string;
  raw: RawEvent;
  /** What the InvalidEventError message must contain. */
  reason: string;
}

const good = (): Record<string, unknown> =>
  buildInfrastructureEnvelope(
    'ComputeResourceRegistered',
    {
      resource: {
        id: 'web-1',
        resource_type: 'Physical',
        hostname: 'web-1',
        system: 'x86_64-linux',
        capabilities: { cpu_cores: 4, memory_mb: 8192, storage_gb: null, metadata: {} },
        interfaces: [],
        services: [],
        guests: [],
      },
    },
    { aggregateId: GENERATED_AGGREGATE_ID, timestamp: '2025-06-01T00:00:00.123Z' },
  ) as unknown as Record<string, unknown>;

const bytes = (text: string) => textEncoder.encode(text);
const raw = (body: unknown, subject = 'infrastructure.compute.registered'): RawEvent => ({
  subject,
  seq: 1,
  data: bytes(JSON.stringify(body)),
});
const edit = (change: (e: Record<string, unknown>, variant: Record<string, unknown>) => void) => {
  const e = good();
  change(
    e,
    (e.data as Record<string, Record<string, unknown>>).ComputeResourceRegistered as Record<string, unknown>,
  );
  return e;
};

/** One sample of each way a message can fail to decode. */
export function badInfrastructureEvents(): BadInfrastructureSample[] {
  const v2Body = {
    event_id: '0190f000-0000-7000-8000-000000000001',
    aggregate_id: '0190f000-0000-7000-8000-000000000002',
    sequence: 1,
    timestamp: '2025-06-01T00:00:00Z',
    correlation_id: '0190f000-0000-7000-8000-000000000003',
    causation_id: '0190f000-0000-7000-8000-000000000002',
    event_type: 'ResourceRegistered',
    data: {
      aggregate_type: 'compute_resource',
      event: {
        type: 'resource_registered',
        event_version: 1,
        event_id: '0190f000-0000-7000-8000-000000000004',
        aggregate_id: '0190f000-0000-7000-8000-000000000002',
        timestamp: '2025-06-01T00:00:00Z',
        correlation_id: '0190f000-0000-7000-8000-000000000003',
        causation_id: null,
        hostname: 'web-1.example.com',
        resource_type: 'physical_server',
      },
    },
    metadata: null,
  };
  return [
    {
      name: 'a body that is not UTF-8',
      raw: {
        subject: 'infrastructure.compute.registered',
        seq: 1,
        data: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      },
      reason: 'body is not valid UTF-8; expected a CIM StoredEvent as UTF-8 JSON',
    },
    {
      name: 'a body that is not JSON',
      raw: { subject: 'infrastructure.compute.registered', seq: 1, data: bytes('{"event_id": ') },
      reason: 'body is not JSON',
    },
    {
      name: 'a JSON array',
      raw: raw([1, 2]),
      reason: 'expected a CIM StoredEvent JSON object, got an array',
    },
    {
      name: 'an envelope without a timestamp',
      raw: raw(edit((e) => delete e.timestamp)),
      reason:
        'envelope field timestamp: expected an RFC 3339 timestamp like "2025-01-01T00:00:00.123Z", got nothing',
    },
    {
      name: 'an envelope timestamp that is not RFC 3339',
      raw: raw(edit((e) => (e.timestamp = '2025-13-01 00:00'))),
      reason: 'envelope field timestamp: expected an RFC 3339 timestamp',
    },
    {
      name: 'an envelope sequence that is a string',
      raw: raw(edit((e) => (e.sequence = '1'))),
      reason: 'envelope field sequence: expected an integer, got "1"',
    },
    {
      name: 'an unknown event type',
      raw: raw(edit((e) => (e.event_type = 'ServerExploded'))),
      reason:
        'event_type "ServerExploded" is not an infrastructure event; expected one of ComputeResourceRegistered,',
    },
    {
      name: 'a data tag that does not match event_type',
      raw: raw(edit((e) => (e.event_type = 'NetworkDefined'))),
      reason: 'data is tagged "ComputeResourceRegistered" but event_type is "NetworkDefined"',
    },
    {
      name: 'data that is not externally tagged',
      raw: raw(
        edit((e, v) => {
          e.data = v;
        }),
      ),
      reason: 'data: expected exactly one key, "ComputeResourceRegistered"',
    },
    {
      name: 'a count that is a string',
      raw: raw(
        edit(
          (_, v) => ((v.resource as { capabilities: Record<string, unknown> }).capabilities.cpu_cores = '4'),
        ),
      ),
      reason:
        'data.ComputeResourceRegistered.resource.capabilities.cpu_cores: expected a non-negative integer or null, got "4"',
    },
    {
      name: 'a resource without an id',
      raw: raw(edit((_, v) => delete (v.resource as Record<string, unknown>).id)),
      reason: 'data.ComputeResourceRegistered.resource.id: expected a non-empty id string, got nothing',
    },
    {
      name: 'an unknown resource type',
      raw: raw(edit((_, v) => ((v.resource as Record<string, unknown>).resource_type = 'Mainframe'))),
      reason:
        'data.ComputeResourceRegistered.resource.resource_type: expected one of "Physical", "VirtualMachine", "Container", got "Mainframe"',
    },
    {
      name: 'a domain event id that is not a uuid',
      raw: raw(edit((_, v) => (v.event_id = 'evt-1'))),
      reason: 'data.ComputeResourceRegistered.event_id: expected a uuid string, got "evt-1"',
    },
    {
      name: 'the crate\'s "v2" shape on its per-aggregate subject',
      raw: raw(v2Body, 'infrastructure.compute.0190f000-0000-7000-8000-000000000002.resourceregistered'),
      reason: 'the crate\'s newer "v2" event shape',
    },
    {
      name: 'the crate\'s "v2" shape on a v1 subject',
      raw: raw(v2Body),
      reason: 'event_type "ResourceRegistered": this is the crate\'s newer "v2" event shape',
    },
  ];
}
