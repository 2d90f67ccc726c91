/**
 * The scale bench's stream: CIM infrastructure events shaped like a long-lived infrastructure, seeded
 * and deterministic, encoded exactly as the crates publish them (src/cim/infrastructureEncoder.ts).
 *
 * The shape, per 1,000,000 events (entity counts scale with the event count):
 * - ~201,000 entities: 15,000 compute resources, 27,000 interfaces, 900 networks, 95,000
 *   connections, 36,000 software configurations, 27,000 policies;
 * - the infrastructure grows through the whole stream: creations are spread evenly over it, each
 *   new resource followed within a few dozen events by its interfaces, software, connections and
 *   policies (and now and then a network or a topology listing several networks and connections);
 * - the other events touch entities that exist: 70% of them resources (ResourceUpdated is most of
 *   the volume; some removals and re-registrations), then connections (severed, re-established),
 *   software reconfigured, interfaces re-added, policies re-applied, networks removed and redefined,
 *   topologies re-listed; a few name ids that never existed (they leave no row);
 * - time locality: 60% of touches go to the most recently created entities of their kind, 15% to a
 *   hot 1%, 25% to any. Most entities see a few events; hot resources see hundreds.
 *
 * @example for (const e of scaleStream(100_000).events()) await js.publish(e.subject, e.data);
 */
import { formatTimestamp } from '../../src/cim/envelope.js';
import {
  type EncodedEvent,
  encodeInfrastructureEvent,
  type InfrastructurePayloadInput,
} from '../../src/cim/infrastructureEncoder.js';
import type {
  Connection,
  InfrastructureEventType,
  Network,
  PolicyScope,
  ResourceCapabilities,
  Rule,
} from '../../src/cim/infrastructureEvents.js';

/** Entity counts of a stream of `events` events (the proportions above). */
export interface ScaleShape {
  resources: number;
  interfaces: number;
  networks: number;
  connections: number;
  software: number;
  policies: number;
  /** NetworkTopologyDefined events among the creations (each makes 7 new connections). */
  topologies: number;
}

export function scaleShape(events: number): ScaleShape {
  const f = events / 1_000_000;
  const n = (per1M: number, min: number) => Math.max(min, Math.round(per1M * f));
  const topologies = n(3_000, 1);
  return {
    resources: n(15_000, 4),
    interfaces: n(27_000, 4),
    networks: n(900, 2),
    connections: Math.max(n(95_000, 8), 7 * topologies + 1),
    software: n(36_000, 2),
    policies: n(27_000, 2),
    topologies,
  };
}

/** mulberry32: small, fast, seedable. Returns a float in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
/** A deterministic uuid per (role, number): distinct roles never collide. */
const uuid = (role: number, n: number) =>
  `${hex(role, 8)}-${hex((n / 2 ** 32) & 0xffff, 4)}-7${hex(n & 0xfff, 3)}-8000-${hex(n, 12)}`;

const AGGREGATE_ID = uuid(0xa66, 1);
const ROLES = ['web', 'db', 'cache', 'queue', 'batch', 'edge', 'ci'] as const;
const TYPES = ['Physical', 'VirtualMachine', 'VirtualMachine', 'Container'] as const;
const SOFTWARE = ['nginx', 'postgresql', 'redis', 'haproxy', 'prometheus', 'nats-server', 'node'] as const;
const RULE_TYPES = ['Security', 'Access', 'Compliance', 'Performance'] as const;
const START_MS = Date.UTC(2025, 0, 6);

/** The counter's value, then one more. */
function bump(counters: Uint16Array, i: number): number {
  const v = counters[i] as number;
  counters[i] = v + 1;
  return v;
}

const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length] as T;

/** One creation step: what the next creation event makes. */
type Creation =
  | { kind: 'network' }
  | { kind: 'resource'; r: number }
  | { kind: 'interface'; r: number }
  | { kind: 'software'; r: number }
  | { kind: 'connection'; r: number }
  | { kind: 'policy'; r: number }
  | { kind: 'topology'; r: number };

type TouchKind = 'resource' | 'interface' | 'connection' | 'software' | 'policy' | 'network' | 'topology';
const TOUCH_WEIGHTS: readonly [TouchKind, number][] = [
  ['resource', 0.7],
  ['connection', 0.11],
  ['software', 0.08],
  ['interface', 0.06],
  ['policy', 0.035],
  ['topology', 0.01],
  ['network', 0.005],
];

/** How many of `total` fall to item `i` of `count` (spreads `total` evenly, exactly). */
const share = (total: number, count: number, i: number) =>
  Math.floor(((i + 1) * total) / count) - Math.floor((i * total) / count);

export class ScaleStream {
  readonly shape: ScaleShape;
  /** Events per event type, filled as {@link events} runs. */
  readonly byType: Partial<Record<InfrastructureEventType, number>> = {};
  private readonly next: () => number;
  private readonly total: number;
  private i = 0;
  private ms = START_MS;
  private timestamp = '';
  // Entities, by index in order of creation; `*State` 0 none yet, 1 live, 2 removed / severed.
  private resources = 0;
  private readonly resourceState: Uint8Array;
  private readonly resourceConnections: Uint16Array;
  private interfaces = 0;
  private readonly ifaceResource: Int32Array;
  private readonly ifaceNetwork: Int32Array;
  private readonly ifaceVersion: Uint16Array;
  private networks = 0;
  private readonly networkState: Uint8Array;
  private readonly networkVersion: Uint16Array;
  private connections = 0;
  private readonly connFrom: Int32Array;
  private readonly connFromPort: Uint16Array;
  private readonly connTo: Int32Array;
  private readonly connState: Uint8Array;
  private software = 0;
  private readonly softwareResource: Int32Array;
  private readonly softwareVersion: Uint16Array;
  private policies = 0;
  private readonly policyScope: Int32Array;
  private readonly policyVersion: Uint16Array;
  private topologies = 0;
  private ghosts = 0;
  private readonly queue: Creation[] = [];
  private planned = 0;
  private created = 0;
  private readonly creations: number;

  constructor(events: number, seed = 13) {
    this.total = events;
    this.next = prng(seed);
    const s = scaleShape(events);
    this.shape = s;
    this.resourceState = new Uint8Array(s.resources);
    this.resourceConnections = new Uint16Array(s.resources);
    this.ifaceResource = new Int32Array(s.interfaces);
    this.ifaceNetwork = new Int32Array(s.interfaces);
    this.ifaceVersion = new Uint16Array(s.interfaces);
    this.networkState = new Uint8Array(s.networks);
    this.networkVersion = new Uint16Array(s.networks);
    this.connFrom = new Int32Array(s.connections);
    this.connFromPort = new Uint16Array(s.connections);
    this.connTo = new Int32Array(s.connections);
    this.connState = new Uint8Array(s.connections);
    this.softwareResource = new Int32Array(s.software);
    this.softwareVersion = new Uint16Array(s.software);
    this.policyScope = new Int32Array(s.policies);
    this.policyVersion = new Uint16Array(s.policies);
    const direct = s.connections - 7 * s.topologies;
    this.creations =
      s.resources + s.interfaces + s.networks + direct + s.software + s.policies + s.topologies;
  }

  /** Distinct entities the stream creates. */
  get entities(): number {
    const s = this.shape;
    return s.resources + s.interfaces + s.networks + s.connections + s.software + s.policies;
  }

  /** The events, in order; each call starts nothing new: iterate once. */
  *events(): Generator<EncodedEvent> {
    for (; this.i < this.total; this.i++) {
      this.tick();
      const due = Math.ceil(((this.i + 1) * this.creations) / this.total);
      const e = this.created < due ? this.createNext() : undefined;
      yield e ?? this.touch();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Encoding

  private tick(): void {
    this.ms += 1 + Math.floor(this.next() * 120);
    // The crates write 0, 3, 6 or 9 fraction digits (the fewest that are exact).
    const digits = Math.floor(this.next() * 4);
    const sub =
      digits < 2 ? 0 : digits === 2 ? 1_000 * Math.floor(this.next() * 1_000) : 1 + (this.i % 999_998);
    this.timestamp = formatTimestamp(digits === 0 ? this.ms - (this.ms % 1_000) : this.ms, sub);
  }

  private emit<T extends InfrastructureEventType>(
    type: T,
    fields: InfrastructurePayloadInput<T>,
  ): EncodedEvent {
    this.byType[type] = (this.byType[type] ?? 0) + 1;
    const i = this.i;
    const payload = {
      ...fields,
      event_id: uuid(1, i),
      correlation_id: uuid(2, Math.floor(i / 4)), // a few events share a correlation, as a command's do
      causation_id: i % 3 === 0 ? null : uuid(1, i - 1),
      timestamp: this.timestamp,
    };
    return encodeInfrastructureEvent(type, payload, {
      aggregateId: AGGREGATE_ID,
      eventId: uuid(3, i),
      correlationId: uuid(4, i),
      causationId: uuid(5, i),
      timestamp: this.timestamp,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Entities as the crates write them

  private resourceId = (r: number) => `${pick(ROLES, r)}-${String(r).padStart(5, '0')}`;
  private networkId = (n: number) => `net-${String(n).padStart(4, '0')}`;
  private ifaceId = (j: number) => `if-${j}`;

  private capabilities(r: number, v: number): ResourceCapabilities {
    return {
      cpu_cores: 2 ** (1 + ((r + v) % 6)),
      memory_mb: 1_024 * (1 + ((r * 7 + v) % 64)),
      storage_gb: (r + v) % 5 === 0 ? null : 100 * (1 + ((r + v) % 20)),
      metadata: this.metadata(r, v),
    };
  }

  private metadata(r: number, v: number): Record<string, string> {
    return { rack: `r${r % 40}`, role: pick(ROLES, r), env: v % 4 === 0 ? 'staging' : 'prod', rev: `${v}` };
  }

  private network(n: number): Network {
    const v = this.networkVersion[n] as number;
    return {
      id: this.networkId(n),
      name: v === 0 ? `segment ${n}` : `segment ${n} (rev ${v})`,
      cidr_v4: n % 5 === 4 ? null : { address: `10.${(n >>> 8) & 0xff}.${n & 0xff}.0`, prefix_len: 24 },
      cidr_v6: n % 3 === 0 || n % 5 === 4 ? { address: `fd00:${n.toString(16)}::`, prefix_len: 64 } : null,
    };
  }

  private connection(c: number): Connection {
    const from = this.connFrom[c] as number;
    const to = this.connTo[c] as number;
    return {
      from_resource: this.resourceId(from),
      from_interface: `eth${this.connFromPort[c]}`,
      to_resource: this.resourceId(to),
      to_interface: `swp${c % 48}`,
    };
  }

  private policyScopeOf(p: number): PolicyScope {
    const s = this.policyScope[p] as number;
    if (s === -1) return 'Global';
    return s >= 0 ? { Resource: this.resourceId(s) } : { Network: this.networkId(-2 - s) };
  }

  private rules(p: number, v: number): Rule[] {
    const count = 1 + ((p + v) % 3);
    return Array.from({ length: count }, (_, k) => ({
      rule_type: pick(RULE_TYPES, p + k),
      condition: `port == ${1_000 + ((p + k + v) % 9_000)}`,
      action: k % 2 === 0 ? 'allow' : `rate-limit ${10 * (v + 1)}/s`,
    }));
  }

  // ---------------------------------------------------------------------------------------------
  // Creations: each resource in order, with its share of the rest close behind it

  private plan(): boolean {
    const s = this.shape;
    const r = this.planned;
    if (r >= s.resources) return false;
    this.planned++;
    const q = this.queue;
    for (let k = share(s.networks, s.resources, r); k > 0; k--) q.push({ kind: 'network' });
    q.push({ kind: 'resource', r });
    for (let k = share(s.interfaces, s.resources, r); k > 0; k--) q.push({ kind: 'interface', r });
    for (let k = share(s.software, s.resources, r); k > 0; k--) q.push({ kind: 'software', r });
    const direct = s.connections - 7 * s.topologies;
    for (let k = share(direct, s.resources, r); k > 0; k--) q.push({ kind: 'connection', r });
    for (let k = share(s.topologies, s.resources, r); k > 0; k--) q.push({ kind: 'topology', r });
    for (let k = share(s.policies, s.resources, r); k > 0; k--) q.push({ kind: 'policy', r });
    return true;
  }

  private createNext(): EncodedEvent | undefined {
    if (this.queue.length === 0 && !this.plan()) return undefined;
    const c = this.queue.shift() as Creation;
    this.created++;
    switch (c.kind) {
      case 'network':
        return this.defineNetwork(this.networks++);
      case 'resource':
        this.resources = c.r + 1;
        return this.register(c.r);
      case 'interface':
        return this.addInterface(this.newInterface(c.r));
      case 'software':
        this.softwareResource[this.software] = c.r;
        return this.configure(this.software++);
      case 'connection':
        return this.connect(this.newConnection(c.r));
      case 'policy':
        this.policyScope[this.policies] = this.newPolicyScope(c.r);
        return this.applyPolicy(this.policies++);
      case 'topology':
        return this.defineTopology(true);
    }
  }

  private newInterface(r: number): number {
    const j = this.interfaces++;
    this.ifaceResource[j] = r;
    this.ifaceNetwork[j] = this.networks === 0 || j % 7 === 6 ? -1 : this.recent(this.networks, 0.1);
    return j;
  }

  private newConnection(r: number): number {
    const c = this.connections++;
    this.connFrom[c] = r;
    this.connFromPort[c] = bump(this.resourceConnections, r);
    this.connTo[c] = this.resources > 1 ? this.recent(this.resources, 0.05) : r;
    return c;
  }

  private newPolicyScope(r: number): number {
    const roll = this.next();
    if (roll < 0.2 || this.networks === 0) return -1;
    return roll < 0.7 ? r : -2 - this.recent(this.networks, 0.2);
  }

  // ---------------------------------------------------------------------------------------------
  // Touches: the rest of the traffic, on entities that exist

  /** An index below `count`: 60% among the most recent `window` share, 15% a hot 1%, 25% any. */
  private recent(count: number, window = 0.02): number {
    const roll = this.next();
    if (roll < 0.6) {
      const w = Math.max(8, Math.ceil(count * window));
      return Math.max(0, count - 1 - Math.floor(this.next() * Math.min(w, count)));
    }
    const any = Math.floor(this.next() * count);
    return roll < 0.75 ? any - (any % 100) : any;
  }

  private touch(): EncodedEvent {
    if (this.next() < 0.0005) return this.ghost();
    let roll = this.next();
    let kind: TouchKind = 'resource';
    for (const [k, w] of TOUCH_WEIGHTS) {
      if (roll < w) {
        kind = k;
        break;
      }
      roll -= w;
    }
    switch (kind) {
      case 'connection':
        if (this.connections > 0) return this.touchConnection(this.recent(this.connections));
        break;
      case 'software':
        if (this.software > 0) return this.configure(this.recent(this.software));
        break;
      case 'interface':
        if (this.interfaces > 0) return this.readdInterface(this.recent(this.interfaces));
        break;
      case 'policy':
        if (this.policies > 0) return this.applyPolicy(this.recent(this.policies));
        break;
      case 'topology':
        if (this.networks > 0 && this.connections > 0) return this.defineTopology(false);
        break;
      case 'network':
        if (this.networks > 0) return this.touchNetwork(this.recent(this.networks, 0.1));
        break;
    }
    return this.touchResource(this.resources > 0 ? this.recent(this.resources) : 0);
  }

  /** An event about an id that never existed: it leaves no row. */
  private ghost(): EncodedEvent {
    const g = this.ghosts++;
    switch (g % 3) {
      case 0:
        return this.emit('ResourceUpdated', {
          resource_id: `ghost-${g}`,
          updates: { hostname: `ghost-${g}.example.net`, capabilities: null, metadata: null },
        });
      case 1:
        return this.emit('ConnectionSevered', {
          connection: {
            from_resource: `ghost-${g}`,
            from_interface: 'eth0',
            to_resource: 'x',
            to_interface: 'y',
          },
          reason: 'never connected',
        });
      default:
        return this.emit('NetworkRemoved', { network_id: `ghost-net-${g}`, reason: 'never defined' });
    }
  }

  private touchResource(r: number): EncodedEvent {
    const state = this.resourceState[r] as number;
    const roll = this.next();
    if (state === 0) return this.register(r);
    if (state === 2 && roll < 0.5) return this.register(r);
    if (state === 1 && roll < 0.005) {
      this.resourceState[r] = 2;
      return this.emit('ResourceRemoved', {
        resource_id: this.resourceId(r),
        reason: pick(['hardware failure', 'decommissioned', 'migrated to new rack'], this.i),
      });
    }
    if (state === 1 && roll < 0.01) return this.register(r);
    return this.update(r);
  }

  private register(r: number): EncodedEvent {
    this.resourceState[r] = 1;
    const id = this.resourceId(r);
    return this.emit('ComputeResourceRegistered', {
      resource: {
        id,
        resource_type: pick(TYPES, r),
        hostname: `${id}.dc${1 + (r % 3)}.example.net`,
        system: r % 4 === 3 ? 'aarch64-linux' : 'x86_64-linux',
        capabilities: this.capabilities(r, 0),
        interfaces: [],
        services: [],
        guests: [],
      },
    });
  }

  private update(r: number): EncodedEvent {
    const v = 1 + (this.i % 1_000);
    const roll = this.next();
    const id = this.resourceId(r);
    const hostname = roll < 0.2 ? `${id}-${v}.dc${1 + (r % 3)}.example.net` : null;
    const capabilities = roll >= 0.2 && roll < 0.5 ? this.capabilities(r, v) : null;
    const metadata = roll >= 0.4 && roll < 0.85 ? this.metadata(r, v) : null;
    return this.emit('ResourceUpdated', { resource_id: id, updates: { hostname, capabilities, metadata } });
  }

  private addInterface(j: number): EncodedEvent {
    const n = this.ifaceNetwork[j] as number;
    const v = this.ifaceVersion[j] as number;
    const addresses = [`10.${(j >>> 16) & 0xff}.${(j >>> 8) & 0xff}.${(j + v) & 0xff}`];
    if (j % 4 === 0) addresses.push(`fd00::${j.toString(16)}:${v.toString(16)}`);
    return this.emit('InterfaceAdded', {
      interface: {
        id: this.ifaceId(j),
        resource_id: this.resourceId(this.ifaceResource[j] as number),
        network_id: n < 0 ? null : this.networkId(n),
        addresses,
      },
    });
  }

  private readdInterface(j: number): EncodedEvent {
    bump(this.ifaceVersion, j);
    if (this.networks > 0 && this.next() < 0.3) this.ifaceNetwork[j] = this.recent(this.networks, 0.1);
    return this.addInterface(j);
  }

  private defineNetwork(n: number): EncodedEvent {
    this.networkState[n] = 1;
    return this.emit('NetworkDefined', { network: this.network(n) });
  }

  private touchNetwork(n: number): EncodedEvent {
    if (this.networkState[n] === 1 && this.next() < 0.4) {
      this.networkState[n] = 2;
      return this.emit('NetworkRemoved', { network_id: this.networkId(n), reason: 'segment retired' });
    }
    bump(this.networkVersion, n);
    return this.defineNetwork(n);
  }

  private connect(c: number): EncodedEvent {
    this.connState[c] = 1;
    return this.emit('ResourcesConnected', { connection: this.connection(c) });
  }

  private touchConnection(c: number): EncodedEvent {
    const live = this.connState[c] === 1;
    if (live ? this.next() < 0.6 : this.next() < 0.2) {
      this.connState[c] = 2;
      return this.emit('ConnectionSevered', {
        connection: this.connection(c),
        reason: pick(['cable replaced', 'port down', 'decommission'], c),
      });
    }
    return this.connect(c);
  }

  /** A topology: 2-4 networks and 3-10 connections; at creation 7 of them new (and maybe a network). */
  private defineTopology(creating: boolean): EncodedEvent {
    const t = this.topologies++;
    const networks: Network[] = [];
    for (let k = 2 + (t % 3); k > 0 && this.networks > 0; k--) {
      const n = this.recent(this.networks, 0.1);
      this.networkState[n] = 1;
      networks.push(this.network(n));
    }
    if (t % 5 === 0 && networks.length > 0) {
      const twice = networks[0] as Network; // listed twice: the last listing wins
      networks.push({ ...twice, name: `${twice.name} (relisted)` });
    }
    const connections: Connection[] = [];
    if (creating) {
      for (let k = 0; k < 7; k++) {
        const c = this.newConnection(this.resources > 0 ? this.recent(this.resources, 0.01) : 0);
        this.connState[c] = 1;
        connections.push(this.connection(c));
      }
    }
    for (let k = creating ? t % 4 : 3 + (t % 8); k > 0 && this.connections > 0; k--) {
      const c = this.recent(this.connections);
      this.connState[c] = 1;
      connections.push(this.connection(c));
    }
    return this.emit('NetworkTopologyDefined', { topology_id: uuid(6, t), networks, connections });
  }

  private configure(j: number): EncodedEvent {
    const v = bump(this.softwareVersion, j);
    const name = pick(SOFTWARE, j);
    const kind = (j + v) % 10;
    const configuration_data =
      kind === 0
        ? null
        : kind === 1
          ? `profile-${v}`
          : kind === 2
            ? v % 2 === 0
            : { port: 8_000 + (j % 1_000), workers: 1 + (v % 16), tls: v % 3 !== 0 };
    return this.emit('SoftwareConfigured', {
      configuration: {
        id: uuid(7, j),
        resource_id: this.resourceId(this.softwareResource[j] as number),
        software: {
          id: name,
          name,
          version: `${1 + (j % 3)}.${v}.${j % 10}`,
          derivation_path: j % 2 === 0 ? `/nix/store/${hex(j, 8)}${hex(v, 24)}-${name}` : null,
        },
        configuration_data,
        dependencies: j % 3 === 0 ? [] : [pick(SOFTWARE, j + 1), pick(SOFTWARE, j + 3)].slice(0, 1 + (j % 2)),
      },
    });
  }

  private applyPolicy(p: number): EncodedEvent {
    const v = bump(this.policyVersion, p);
    return this.emit('PolicyApplied', {
      policy: { id: uuid(8, p), name: `policy-${p}`, scope: this.policyScopeOf(p), rules: this.rules(p, v) },
    });
  }
}

/** The stream of `events` events for `seed`: iterate `.events()` once; `.shape`, `.byType` describe it. */
export const scaleStream = (events: number, seed = 13): ScaleStream => new ScaleStream(events, seed);
