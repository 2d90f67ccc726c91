/**
 * The demo: a small data centre told as CIM infrastructure events, exactly as the crates publish
 * them (DESIGN 3.1, 3.2), so a newcomer sees the topology read model fill.
 *
 * The story: two spine switches and a management, storage, pod and lab network; racks that come
 * with a top-of-rack switch, a dual-stack rack network and their uplinks (one
 * `NetworkTopologyDefined` each); physical hosts cabled to their rack's switch, with interfaces on
 * the rack, storage and management networks; VMs on the hypervisors and containers on the VMs;
 * software configured (and upgraded) with versions, Nix derivations and dependencies; policies of
 * every scope. Along the way resources are updated (resized, renamed, re-tagged, re-imaged), cables
 * fail and are repaired, VMs migrate, tenants come and go with their networks, the lab network
 * closes and reopens, hosts are decommissioned (their VMs migrated away first, then the host
 * removed and its connections severed, as the decommission saga asks) and come back repaired
 * (registered again). A scripted first act shows every event type within about the first hundred
 * events; after it the estate keeps growing with a weighted mix, for any number of events.
 *
 * Deterministic: the same seed, `start` and `spacingMs` give the same bytes. The ids look like the
 * crate's fresh UUID v7s (their time part is the event's time) but come from the seeded generator.
 *
 * @example
 * for (const { subject, data } of createDemoScenario({ events: 1_000, seed: 7 })) await js.publish(subject, data);
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { ProsaError } from '../errors.js';
import { formatTimestamp } from './envelope.js';
import {
  type Cidr,
  type ComputeType,
  type Connection,
  connectionId,
  encodeInfrastructureEvent,
  type InfrastructureEventType,
  type InfrastructurePayloadInput,
  makeConnection,
  type PolicyScope,
  type ResourceCapabilities,
  type Rule,
} from './infrastructure.js';

/** One demo event: where it goes and the crate's exact bytes. */
export interface DemoEvent {
  subject: string;
  data: Uint8Array;
  type: InfrastructureEventType;
}

export interface DemoScenarioOptions {
  /** How many events the scenario yields (it is cut there, mid-story if need be). */
  events: number;
  /** @default 1 */
  seed?: number;
  /**
   * The first event's append time, epoch milliseconds.
   * @default 2025-01-06T09:00:00Z (fixed, so a seed alone gives the same bytes)
   */
  start?: number;
  /** Mean time between two events' append times, milliseconds (each step is 0.5x to 1.5x). @default 25 */
  spacingMs?: number;
  /** The one infrastructure aggregate's id (envelope `aggregate_id`). @default a UUID v7 from the seed */
  aggregateId?: string;
}

/** The default `start`: a Monday morning. */
export const DEMO_START = Date.UTC(2025, 0, 6, 9, 0, 0);

// ---------------------------------------------------------------------------------------------
// Determinism: a seeded generator, a virtual clock, UUID v7s from both
// ---------------------------------------------------------------------------------------------

interface Random {
  /** [0, 1) */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(list: readonly T[]): T;
  /** 32 random bits as an unsigned integer. */
  u32(): number;
}

/** mulberry32: small, fast and good enough for a story. */
function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  const u32 = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = () => u32() / 4294967296;
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    u32,
    between: (lo, hi) => lo + int(hi - lo + 1),
    chance: (p) => next() < p,
    pick<T>(list: readonly T[]): T {
      if (list.length === 0) throw new RangeError('pick from an empty list');
      return list[int(list.length)] as T;
    },
  };
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => hex(i, 2));
const byteHex = (n: number): string => HEX_BYTE[n & 0xff] as string;

/** A UUID v7 whose time is `ms` and whose random bits come from `rnd` (a lookup per byte: it runs 5 times an event). */
function uuidV7(ms: number, rnd: Random): string {
  const high = Math.floor(ms / 65_536) >>> 0; // the top 32 of the 48 time bits
  const low = ms % 65_536;
  const a = rnd.u32();
  const b = rnd.u32();
  return (
    byteHex(high >>> 24) +
    byteHex(high >>> 16) +
    byteHex(high >>> 8) +
    byteHex(high) +
    '-' +
    byteHex(low >>> 8) +
    byteHex(low) +
    '-' +
    byteHex(0x70 | (a & 0x0f)) + // version 7
    byteHex(a >>> 4) +
    '-' +
    byteHex(0x80 | ((a >>> 12) & 0x3f)) + // variant 10
    byteHex(a >>> 18) +
    '-' +
    byteHex(a >>> 26) +
    byteHex(b >>> 24) +
    byteHex(b >>> 16) +
    byteHex(b >>> 8) +
    byteHex(b) +
    byteHex(rnd.u32())
  );
}

/** An instant kept as whole milliseconds plus the nanoseconds below them, so 9 digits stay exact. */
interface Instant {
  ms: number;
  ns: number;
}

const minus = (t: Instant, nanos: number): Instant => {
  let ms = t.ms;
  let ns = t.ns - nanos;
  while (ns < 0) {
    ns += 1_000_000;
    ms -= 1;
  }
  return { ms, ns };
};

const NIX_BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';

// ---------------------------------------------------------------------------------------------
// The world the story keeps, so that every event refers to things that exist
// ---------------------------------------------------------------------------------------------

interface Net {
  id: string;
  name: string;
  v4: Cidr | null;
  v6: Cidr | null;
  active: boolean;
  /** The next host number to hand out. */
  next: number;
  tenant?: string;
  /** Active VMs with an interface on it (tenant networks). */
  members?: Set<Machine>;
}

interface Nic {
  id: string;
  network: string | null;
  addresses: string[];
}

type Role =
  | 'spine'
  | 'tor'
  | 'hypervisor'
  | 'storage'
  | 'web'
  | 'api'
  | 'db'
  | 'cache'
  | 'queue'
  | 'mon'
  | 'ci'
  | 'app';

interface Machine {
  id: string;
  hostname: string;
  type: ComputeType;
  system: string;
  role: Role;
  capabilities: ResourceCapabilities;
  nics: Nic[];
  services: string[];
  /** Ids of the machine's guests (VMs of a hypervisor, containers of a VM). */
  guests: string[];
  active: boolean;
  parent?: Machine;
  /** The connection that attaches it: a host's cable to its switch, a VM's link to its hypervisor. */
  uplink?: Connection;
  /** Ids of every connection it has been part of. */
  links: Set<string>;
}

interface Rack {
  name: string;
  tor: Machine;
  network: Net;
  /** Switch ports handed out to hosts (never reused: a returning host keeps its port). */
  ports: number;
}

interface SoftwareRecord {
  id: string;
  resourceId: string;
  pkg: Package;
  version: number;
}

interface PolicyRecord {
  id: string;
  name: string;
  scope: PolicyScope;
  rules: Rule[];
}

interface Package {
  name: string;
  versions: readonly string[];
  dependencies: readonly string[];
  /** Whether it comes from nixpkgs (has a derivation) or from an image registry. */
  nix: boolean;
  config(m: Machine, version: string): unknown;
}

const PORTS_PER_RACK = 16;
const DOMAIN = 'dc1.example.net';

const pkg = (
  name: string,
  versions: readonly string[],
  dependencies: readonly string[],
  config: Package['config'],
  nix = true,
): Package => ({ name, versions, dependencies, config, nix });

const PACKAGES = {
  nginx: pkg(
    'nginx',
    ['1.26.2', '1.26.3', '1.27.3'],
    ['openssl-3.3.2', 'zlib-1.3.1', 'pcre2-10.44'],
    (m) => ({
      worker_processes: 'auto',
      listen: [80, 443],
      server_name: m.hostname,
      ssl: { protocols: ['TLSv1.2', 'TLSv1.3'], session_cache: 'shared:SSL:10m' },
      client_max_body_size: '16m',
    }),
  ),
  haproxy: pkg('haproxy', ['3.0.6', '3.0.7'], ['openssl-3.3.2', 'pcre2-10.44', 'lua-5.4.7'], () => ({
    maxconn: 20_000,
    frontends: [{ name: 'https', bind: ':443', mode: 'http' }],
    backends: [{ name: 'api', balance: 'leastconn', check: true }],
  })),
  postgresql: pkg(
    'postgresql',
    ['16.4', '16.6', '17.2'],
    ['openssl-3.3.2', 'icu4c-74.2', 'libxml2-2.13.4', 'zstd-1.5.6'],
    (m) => ({
      port: 5432,
      max_connections: 200,
      shared_buffers: `${Math.max(1, Math.floor((m.capabilities.memory_mb ?? 8192) / 4096))}GB`,
      wal_level: 'replica',
      archive_mode: 'on',
      ssl: true,
    }),
  ),
  redis: pkg('redis', ['7.2.6', '7.2.7'], ['openssl-3.3.2', 'jemalloc-5.3.0'], () => ({
    port: 6379,
    maxmemory: '4gb',
    'maxmemory-policy': 'allkeys-lru',
    appendonly: false,
  })),
  kafka: pkg('apache-kafka', ['3.8.1', '3.9.0'], ['openjdk-21.0.5'], (m) => ({
    'process.roles': 'broker,controller',
    'node.id': Number(m.id.replace(/\D/g, '')) || 1,
    'num.partitions': 12,
    'log.retention.hours': 168,
  })),
  nodeExporter: pkg('prometheus-node-exporter', ['1.8.2'], [], () => ({
    listen_address: ':9100',
    collectors: ['systemd', 'textfile', 'hwmon'],
  })),
  prometheus: pkg('prometheus', ['2.55.1', '3.0.1'], [], () => ({
    scrape_interval: '15s',
    retention: '30d',
    scrape_configs: [{ job_name: 'node', static_configs: [{ targets: ['*:9100'] }] }],
  })),
  grafana: pkg('grafana', ['11.3.1', '11.4.0'], ['sqlite-3.46.1'], () => ({
    http_port: 3000,
    'auth.anonymous': { enabled: false },
  })),
  containerd: pkg('containerd', ['1.7.23', '1.7.24', '2.0.1'], ['runc-1.2.3', 'cni-plugins-1.6.1'], () => ({
    snapshotter: 'overlayfs',
    sandbox_image: 'registry.k8s.io/pause:3.10',
    max_concurrent_downloads: 3,
  })),
  libvirt: pkg('libvirt', ['10.8.0', '10.9.0'], ['qemu-9.1.2', 'openssl-3.3.2'], () => ({
    listen_tls: true,
    max_clients: 5_000,
    hugepages: null,
  })),
  openssh: pkg('openssh', ['9.8p1', '9.9p1'], ['openssl-3.3.2', 'zlib-1.3.1'], () => ({
    PasswordAuthentication: false,
    PermitRootLogin: 'prohibit-password',
    Port: 22,
  })),
  // Some configuration data is not an object: chrony's is its config file's text.
  chrony: pkg('chrony', ['4.6.1'], [], () => `server time.${DOMAIN} iburst\nmakestep 1.0 3\nrtcsync`),
  ceph: pkg('ceph', ['18.2.4', '19.2.0'], ['openssl-3.3.2', 'rocksdb-9.7.3'], () => ({
    osd_memory_target: 4_294_967_296,
    osd_pool_default_size: 3,
    public_network: 'fd00:20::/48',
  })),
} as const satisfies Record<string, Package>;

/** Applications shipped as container images: no derivation, config as the deployment sees it. */
const APPS: readonly Package[] = [
  'checkout-api',
  'catalog-api',
  'auth-service',
  'search-indexer',
  'billing-worker',
].map((name) =>
  pkg(
    `ghcr.io/acme/${name}`,
    ['1.14.2', '1.15.0', '1.15.1', '2.0.0'],
    [],
    (m) => ({ replicas: 1, env: { LOG_LEVEL: 'info', NODE: m.parent?.id ?? m.id }, port: 8080 }),
    false,
  ),
);

const ROLE_PACKAGES: { readonly [R in Role]: readonly Package[] } = {
  spine: [],
  tor: [],
  hypervisor: [PACKAGES.libvirt, PACKAGES.nodeExporter, PACKAGES.openssh, PACKAGES.chrony],
  storage: [PACKAGES.ceph, PACKAGES.nodeExporter, PACKAGES.chrony],
  web: [PACKAGES.nginx, PACKAGES.nodeExporter],
  api: [PACKAGES.haproxy, PACKAGES.containerd],
  db: [PACKAGES.postgresql, PACKAGES.nodeExporter],
  cache: [PACKAGES.redis],
  queue: [PACKAGES.kafka],
  mon: [PACKAGES.prometheus, PACKAGES.grafana],
  ci: [PACKAGES.containerd, PACKAGES.openssh],
  app: APPS,
};

const VM_ROLES: readonly Role[] = ['web', 'web', 'api', 'api', 'db', 'cache', 'queue', 'mon', 'ci'];
const CONTAINER_PARENTS: readonly Role[] = ['api', 'ci'];
const TENANTS = [
  'acme-retail',
  'globex',
  'initech',
  'umbrella-labs',
  'hooli',
  'stark-industries',
  'wayne-ent',
];

const HARDWARE = [
  { vendor: 'Dell', model: 'PowerEdge R760', system: 'x86_64-linux', cpu: [64, 96, 128] },
  { vendor: 'HPE', model: 'ProLiant DL380 Gen11', system: 'x86_64-linux', cpu: [48, 64, 96] },
  { vendor: 'Supermicro', model: 'AS-1115HS-TNR', system: 'x86_64-linux', cpu: [64, 128] },
  { vendor: 'Gigabyte', model: 'R272-P30 (Ampere Altra)', system: 'aarch64-linux', cpu: [80, 128] },
] as const;

const REMOVAL_REASONS = [
  'end of life: warranty expired',
  'hardware fault: failed DIMM, sent for RMA',
  'hardware fault: PSU failure, sent for RMA',
  'consolidation: workloads moved to denser hosts',
] as const;

// ---------------------------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------------------------

/** One event of a story before its ids and time are stamped. */
type Step = {
  [T in InfrastructureEventType]: { type: T; payload: InfrastructurePayloadInput<T> };
}[InfrastructureEventType];

const step = <T extends InfrastructureEventType>(type: T, payload: InfrastructurePayloadInput<T>): Step =>
  ({ type, payload }) as unknown as Step;

/**
 * The demo story as the crates' wire messages: `events` messages, deterministic for a seed.
 *
 * Every event decodes under DESIGN 3.2 and refers to what exists: updates, removals and severed
 * connections name live entities, interfaces sit on defined networks with addresses inside their
 * CIDRs, connections join real interfaces. Events of one story share a domain `correlation_id`,
 * and each names the one before as its `causation_id`.
 *
 * @see publishDemo to put it on JetStream.
 */
export function createDemoScenario(options: DemoScenarioOptions): Iterable<DemoEvent> {
  const total = Math.max(0, Math.floor(options.events));
  return {
    *[Symbol.iterator]() {
      if (total === 0) return;
      const rnd = seededRandom(options.seed ?? 1);
      const spacingNs = Math.max(0, (options.spacingMs ?? 25) * 1e6);
      let now: Instant = { ms: Math.floor(options.start ?? DEMO_START), ns: 0 };
      const aggregateId = options.aggregateId ?? uuidV7(now.ms, rnd);
      let correlation = '';
      let cause: string | null = null;
      let emitted = 0;
      const world = createWorld(rnd, () => now.ms);
      for (const story of world.stories()) {
        correlation = uuidV7(now.ms, rnd);
        cause = null;
        for (const s of story) {
          // The domain event happens a little before the crate appends it.
          const occurred = minus(now, rnd.between(20_000, 400_000));
          const eventId = uuidV7(occurred.ms, rnd);
          const appended = formatTimestamp(now.ms, now.ns);
          const { subject, data } = encodeInfrastructureEvent(
            s.type,
            {
              ...s.payload,
              event_id: eventId,
              correlation_id: correlation,
              causation_id: cause,
              timestamp: formatTimestamp(occurred.ms, occurred.ns),
            } as InfrastructurePayloadInput<typeof s.type>,
            {
              aggregateId,
              eventId: uuidV7(now.ms, rnd),
              correlationId: uuidV7(now.ms, rnd),
              causationId: uuidV7(now.ms, rnd),
              timestamp: appended,
            },
          );
          yield { subject, data, type: s.type };
          if (++emitted >= total) return;
          cause = eventId;
          // At least a nanosecond, so appends stay strictly in time order at any spacing.
          const advance = Math.round(spacingNs * (0.5 + rnd.next())) + 1 + rnd.int(1000);
          const ns = now.ns + advance;
          now = { ms: now.ms + Math.floor(ns / 1e6), ns: ns % 1e6 };
        }
      }
    },
  };
}

/** A set that picks a random member in O(1) (swap-remove), in a deterministic order. */
class Pool<T> {
  private readonly items: T[] = [];
  private readonly index = new Map<T, number>();
  get size(): number {
    return this.items.length;
  }
  has(item: T): boolean {
    return this.index.has(item);
  }
  add(item: T): void {
    if (this.index.has(item)) return;
    this.index.set(item, this.items.length);
    this.items.push(item);
  }
  delete(item: T): void {
    const i = this.index.get(item);
    if (i === undefined) return;
    const last = this.items.pop() as T;
    this.index.delete(item);
    if (last !== item) {
      this.items[i] = last;
      this.index.set(last, i);
    }
  }
  /** A random member that satisfies `accept`, trying a few times; undefined if none was found. */
  pick(rnd: Random, accept: (item: T) => boolean = () => true, tries = 12): T | undefined {
    for (let t = 0; t < tries && this.items.length > 0; t++) {
      const item = this.items[rnd.int(this.items.length)] as T;
      if (accept(item)) return item;
    }
    return undefined;
  }
  values(): readonly T[] {
    return this.items;
  }
}

/**
 * The data centre and its stories. Each story is a short run of steps that keeps the world true;
 * random choices come from pools kept up to date, so a story costs the same at any estate size.
 */
function createWorld(rnd: Random, nowMs: () => number) {
  const networks = new Map<string, Net>();
  const machines = new Map<string, Machine>();
  const links = new Map<string, { c: Connection; active: boolean }>();
  const racks: Rack[] = [];
  const spines: Machine[] = [];
  const counters = new Map<string, number>();
  let tenants = 0;

  // Pools of what stories choose from.
  const live = new Pool<Machine>();
  const hosts = new Pool<Machine>(); // active hypervisors and storage hosts
  const hypervisors = new Pool<Machine>();
  const vms = new Pool<Machine>();
  const containerParents = new Pool<Machine>();
  const removedHosts = new Pool<Machine>();
  const activeLinks = new Pool<string>();
  const tenantNets = new Pool<Net>();
  const software = new Pool<SoftwareRecord>();
  const policies = new Pool<PolicyRecord>();
  /** Links cut by a fault, waiting for a repair. */
  const broken: Connection[] = [];

  const newId = () => uuidV7(nowMs(), rnd);
  const count = (name: string): number => {
    const n = (counters.get(name) ?? 0) + 1;
    counters.set(name, n);
    return n;
  };
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  const network = (id: string) => networks.get(id) as Net;

  function activate(m: Machine): void {
    m.active = true;
    live.add(m);
    removedHosts.delete(m);
    if (m.role === 'hypervisor' || m.role === 'storage') hosts.add(m);
    if (m.role === 'hypervisor') hypervisors.add(m);
    if (m.type === 'VirtualMachine') vms.add(m);
    if (m.type === 'VirtualMachine' && CONTAINER_PARENTS.includes(m.role)) containerParents.add(m);
  }

  function deactivate(m: Machine): void {
    m.active = false;
    for (const pool of [live, hosts, hypervisors, vms, containerParents]) pool.delete(m);
    for (const n of m.nics) if (n.network !== null) networks.get(n.network)?.members?.delete(m);
    if (m.role === 'hypervisor' || m.role === 'storage') removedHosts.add(m);
  }

  // --- addresses -------------------------------------------------------------------------------

  const v4Text = (n: number): string =>
    [Math.floor(n / 16_777_216) % 256, Math.floor(n / 65_536) % 256, Math.floor(n / 256) % 256, n % 256].join(
      '.',
    );
  const v4Number = (a: string): number => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);

  /** The next addresses on a network: one per family it has, inside its CIDRs (wrapping if full). */
  function allocate(net: Net): string[] {
    const i = net.next++;
    const out: string[] = [];
    if (net.v4) {
      const size = 2 ** (32 - net.v4.prefix_len) - 3; // not the network, gateway or broadcast address
      out.push(v4Text(v4Number(net.v4.address) + 2 + (i % Math.max(1, size))));
    }
    if (net.v6) {
      // Every demo IPv6 prefix is written ending in `::`; its hosts fit in the last two groups.
      const h = (i % 0xfffffff) + 16;
      const tail = h > 0xffff ? `${hex(Math.floor(h / 65_536), 1)}:${hex(h % 65_536, 1)}` : hex(h, 1);
      out.push(`${net.v6.address}${tail}`);
    }
    return out;
  }

  const linkLocal = (): string => `fe80::${hex(rnd.u32() & 0xffff, 1)}:${hex(rnd.u32() & 0xffff, 1)}`;

  const nic = (m: { id: string }, name: string, net: Net | null, addresses?: string[]): Nic => ({
    id: `${m.id}-${name}`,
    network: net?.id ?? null,
    addresses: addresses ?? (net ? allocate(net) : []),
  });

  const wireNetwork = (n: Net) => ({ id: n.id, name: n.name, cidr_v4: n.v4, cidr_v6: n.v6 });

  // --- building blocks: each yields the events of one change and records it ----------------------

  function defineNetwork(net: Net): Step {
    networks.set(net.id, net);
    net.active = true;
    if (net.tenant !== undefined) tenantNets.add(net);
    return step('NetworkDefined', { network: wireNetwork(net) });
  }

  function removeNetwork(net: Net, reason: string): Step {
    net.active = false;
    tenantNets.delete(net);
    return step('NetworkRemoved', { network_id: net.id, reason });
  }

  function* register(m: Machine): Generator<Step> {
    machines.set(m.id, m);
    activate(m);
    yield step('ComputeResourceRegistered', {
      resource: {
        id: m.id,
        resource_type: m.type,
        hostname: m.hostname,
        system: m.system,
        capabilities: { ...m.capabilities, metadata: { ...m.capabilities.metadata } },
        interfaces: m.nics.map((n) => n.id),
        services: [...m.services],
        guests: [...m.guests],
      },
    });
  }

  const interfaceAdded = (m: Machine, n: Nic): Step =>
    step('InterfaceAdded', {
      interface: { id: n.id, resource_id: m.id, network_id: n.network, addresses: [...n.addresses] },
    });

  function* addInterfaces(m: Machine): Generator<Step> {
    for (const n of m.nics) yield interfaceAdded(m, n);
  }

  /** Records a connection as active (the event that says so is the caller's). */
  function track(c: Connection): void {
    const id = connectionId(c);
    links.set(id, { c, active: true });
    activeLinks.add(id);
    machines.get(c.from_resource)?.links.add(id);
    machines.get(c.to_resource)?.links.add(id);
  }

  function* connect(c: Connection): Generator<Step> {
    track(c);
    yield step('ResourcesConnected', { connection: c });
  }

  function* sever(c: Connection, reason: string): Generator<Step> {
    const id = connectionId(c);
    const link = links.get(id);
    if (!link?.active) return;
    link.active = false;
    activeLinks.delete(id);
    yield step('ConnectionSevered', { connection: c, reason });
  }

  function* configure(m: Machine, p: Package): Generator<Step> {
    const record: SoftwareRecord = { id: newId(), resourceId: m.id, pkg: p, version: 0 };
    software.add(record);
    yield softwareStep(record, m);
  }

  function softwareStep(r: SoftwareRecord, m: Machine): Step {
    const version = r.pkg.versions[Math.min(r.version, r.pkg.versions.length - 1)] as string;
    const artifact = `${r.pkg.name.replace(/^.*\//, '')}-${version}`;
    const hash = Array.from({ length: 32 }, () => NIX_BASE32[rnd.int(32)]).join('');
    return step('SoftwareConfigured', {
      configuration: {
        id: r.id,
        resource_id: r.resourceId,
        software: {
          id: r.pkg.nix ? artifact : `${r.pkg.name}:${version}`,
          name: r.pkg.name,
          version,
          derivation_path: r.pkg.nix ? `/nix/store/${hash}-${artifact}` : null,
        },
        configuration_data: r.pkg.config(m, version),
        dependencies: [...r.pkg.dependencies],
      },
    });
  }

  function* applyPolicy(p: PolicyRecord): Generator<Step> {
    policies.add(p);
    yield step('PolicyApplied', { policy: { id: p.id, name: p.name, scope: p.scope, rules: [...p.rules] } });
  }

  const policy = (name: string, scope: PolicyScope, rules: Rule[]): PolicyRecord => ({
    id: newId(),
    name,
    scope,
    rules,
  });
  const rule = (rule_type: Rule['rule_type'], condition: string, action: string): Rule => ({
    rule_type,
    condition,
    action,
  });

  const newMachine = (
    m: Omit<Machine, 'nics' | 'guests' | 'active' | 'links'> & Partial<Pick<Machine, 'guests'>>,
  ): Machine => ({ guests: [], ...m, nics: [], active: false, links: new Set() });

  // --- the stories ---------------------------------------------------------------------------

  function* bootstrap(): Generator<Step> {
    yield* applyPolicy(
      policy('baseline-security', 'Global', [
        rule('Security', 'sshd.PasswordAuthentication == true', 'deny'),
        rule('Compliance', 'audit.retention_days < 365', 'alert'),
      ]),
    );
    const net = (id: string, name: string, v4: Cidr | null, v6: Cidr | null): Net => ({
      id,
      name,
      v4,
      v6,
      active: true,
      next: 0,
    });
    yield defineNetwork(
      net('net-mgmt', 'management (out-of-band)', { address: '10.0.0.0', prefix_len: 16 }, null),
    );
    yield defineNetwork(
      net('net-storage', 'storage (Ceph public)', null, { address: 'fd00:20::', prefix_len: 48 }),
    );
    yield defineNetwork(net('net-pods', 'container pods', null, { address: 'fd00:42::', prefix_len: 48 }));
    yield defineNetwork(net('net-lab', 'lab (not yet addressed)', null, null));
    for (const n of [1, 2]) {
      const spine = newMachine({
        id: `spine-${pad(n, 2)}`,
        hostname: `spine-${pad(n, 2)}.${DOMAIN}`,
        type: 'Physical',
        system: 'x86_64-linux',
        role: 'spine',
        capabilities: {
          cpu_cores: 8,
          memory_mb: 32_768,
          storage_gb: 128,
          metadata: {
            role: 'spine',
            vendor: 'Arista',
            model: '7050CX3-32S',
            os: 'EOS 4.32.2F',
            rack: 'core',
          },
        },
        services: ['sshd', 'lldpd', 'bgpd'],
      });
      spine.nics.push(nic(spine, 'mgmt0', network('net-mgmt')));
      spines.push(spine);
      yield* register(spine);
      yield* addInterfaces(spine);
    }
  }

  /** A rack: its switch, its network and its uplinks to both spines, defined as one topology. */
  function* addRack(): Generator<Step> {
    const k = racks.length + 1;
    const name = `r${pad(k, 2)}`;
    const rackNet: Net = {
      id: `net-rack-${name}`,
      name: `rack ${name} (production, dual stack)`,
      v4: { address: `10.${64 + (Math.floor(k / 256) % 64)}.${k % 256}.0`, prefix_len: 24 },
      v6: { address: `fd00:64:${hex(k % 65_536, 1)}::`, prefix_len: 64 },
      active: true,
      next: 0,
    };
    networks.set(rackNet.id, rackNet);
    const tor = newMachine({
      id: `tor-${name}`,
      hostname: `tor-${name}.${DOMAIN}`,
      type: 'Physical',
      system: 'x86_64-linux',
      role: 'tor',
      capabilities: {
        cpu_cores: 4,
        memory_mb: 16_384,
        storage_gb: 64,
        metadata: { role: 'tor', vendor: 'Edgecore', model: 'AS7726-32X', os: 'SONiC 202405', rack: name },
      },
      services: ['sshd', 'lldpd', 'bgpd'],
    });
    tor.nics.push(nic(tor, 'mgmt0', network('net-mgmt')));
    const spinePorts: Nic[] = [];
    const uplinks: Connection[] = [];
    for (const [i, spine] of spines.entries()) {
      // BGP unnumbered: the fabric links carry only IPv6 link-local addresses.
      const torPort = nic(tor, `swp${49 + i}`, null, [linkLocal()]);
      const spinePort = nic(spine, `swp${k}`, null, [linkLocal()]);
      tor.nics.push(torPort);
      spine.nics.push(spinePort);
      spinePorts.push(spinePort);
      uplinks.push(makeConnection(tor.id, torPort.id, spine.id, spinePort.id));
    }
    const rack: Rack = { name, tor, network: rackNet, ports: 0 };
    racks.push(rack);
    yield* register(tor);
    yield* addInterfaces(tor);
    for (const [i, spine] of spines.entries()) yield interfaceAdded(spine, spinePorts[i] as Nic);
    // The first rack also brings the production network that every rack routes to.
    const defined = [rackNet];
    if (!networks.has('net-prod')) {
      const prod: Net = {
        id: 'net-prod',
        name: 'production (anycast services)',
        v4: { address: '10.16.0.0', prefix_len: 12 },
        v6: { address: 'fd00:10::', prefix_len: 48 },
        active: true,
        next: 0,
      };
      networks.set(prod.id, prod);
      defined.unshift(prod);
    }
    for (const c of uplinks) track(c);
    yield step('NetworkTopologyDefined', {
      topology_id: newId(),
      networks: defined.map(wireNetwork),
      connections: uplinks,
    });
  }

  function* provisionHost(role: Role = rnd.chance(0.8) ? 'hypervisor' : 'storage'): Generator<Step> {
    let rack = racks.at(-1);
    if (!rack || rack.ports >= PORTS_PER_RACK) {
      yield* addRack();
      rack = racks.at(-1) as Rack;
    }
    const slot = ++rack.ports;
    const hw = rnd.pick(HARDWARE);
    const id = `${rack.name}-h${pad(slot, 2)}`;
    const host = newMachine({
      id,
      hostname: `${id}.${DOMAIN}`,
      type: 'Physical',
      system: hw.system,
      role,
      capabilities: {
        cpu_cores: rnd.pick(hw.cpu),
        memory_mb: rnd.pick([262_144, 524_288, 1_048_576]),
        storage_gb: role === 'storage' ? rnd.pick([61_440, 92_160]) : rnd.pick([1_920, 3_840, 7_680]),
        metadata: {
          role,
          rack: rack.name,
          vendor: hw.vendor,
          model: hw.model,
          serial: `${hw.vendor.slice(0, 2).toUpperCase()}${hex(rnd.u32(), 8).toUpperCase()}`,
          bios: rnd.pick(['2.1.3', '2.2.0', '2.3.1']),
        },
      },
      services:
        role === 'hypervisor' ? ['sshd', 'libvirtd', 'node-exporter'] : ['sshd', 'ceph-osd', 'node-exporter'],
    });
    host.nics.push(
      nic(host, 'eth0', rack.network),
      nic(host, 'eth1', network('net-storage')),
      nic(host, 'bmc0', network('net-mgmt')),
    );
    // A few hosts also have a port on the lab network, which has no addressing yet.
    if (rnd.chance(0.1)) host.nics.push(nic(host, 'eth2', network('net-lab')));
    if (role === 'hypervisor') host.nics.push(nic(host, 'br0', null));
    yield* register(host);
    yield* addInterfaces(host);
    const port = nic(rack.tor, `swp${slot}`, null, []);
    rack.tor.nics.push(port);
    yield interfaceAdded(rack.tor, port);
    host.uplink = makeConnection(host.id, `${host.id}-eth0`, rack.tor.id, port.id);
    yield* connect(host.uplink);
    for (const p of ROLE_PACKAGES[role].slice(0, rnd.between(1, 2))) yield* configure(host, p);
  }

  function* provisionVm(role: Role = rnd.pick(VM_ROLES), on?: Net): Generator<Step> {
    if (hypervisors.size === 0) yield* provisionHost('hypervisor');
    const hv = hypervisors.pick(rnd) as Machine;
    const n = count(role);
    const id = `vm-${role}-${pad(n, 4)}`;
    const net = on ?? (rnd.chance(0.3) ? tenantNets.pick(rnd) : undefined) ?? network('net-prod');
    const vm = newMachine({
      id,
      hostname: `${role}-${pad(n, 4)}.${net.tenant ?? 'prod'}.${DOMAIN}`,
      type: 'VirtualMachine',
      system: hv.system,
      role,
      capabilities: {
        cpu_cores: rnd.pick([2, 4, 8, 16]),
        memory_mb: rnd.pick([4_096, 8_192, 16_384, 32_768, 65_536]),
        storage_gb: rnd.pick([40, 80, 200, 500]),
        metadata: {
          role,
          host: hv.id,
          hypervisor: 'qemu-kvm',
          image: rnd.pick(['nixos-24.11', 'nixos-24.11', 'nixos-25.05']),
          ...(net.tenant ? { tenant: net.tenant } : {}),
        },
      },
      services: ['sshd'],
      parent: hv,
    });
    vm.nics.push(nic(vm, 'eth0', net));
    net.members?.add(vm);
    yield* register(vm);
    yield* addInterfaces(vm);
    hv.guests.push(vm.id);
    vm.uplink = makeConnection(vm.id, `${vm.id}-eth0`, hv.id, `${hv.id}-br0`);
    yield* connect(vm.uplink);
    const pkgs = ROLE_PACKAGES[role];
    if (pkgs.length > 0) yield* configure(vm, rnd.pick(pkgs));
  }

  function* provisionContainer(): Generator<Step> {
    const vm = containerParents.pick(rnd);
    if (!vm) return yield* provisionVm('api');
    const app = rnd.pick(APPS);
    const short = app.name.replace(/^.*\//, '');
    const n = count(`ct-${short}`);
    const ct = newMachine({
      id: `ct-${short}-${pad(n, 4)}`,
      hostname: `${short}-${hex(rnd.u32(), 8).slice(0, 5)}`,
      type: 'Container',
      system: vm.system,
      role: 'app',
      capabilities: {
        cpu_cores: rnd.pick([1, 2, 4]),
        memory_mb: rnd.pick([512, 1_024, 2_048]),
        storage_gb: null, // ephemeral
        metadata: {
          runtime: 'containerd',
          image: `${app.name}:${app.versions[0]}`,
          parent: vm.id,
          namespace: short,
        },
      },
      services: [],
      parent: vm,
    });
    ct.nics.push(nic(ct, 'eth0', network('net-pods')));
    yield* register(ct);
    yield* addInterfaces(ct);
    vm.guests.push(ct.id);
    yield* configure(ct, app);
  }

  function* configureSoftware(): Generator<Step> {
    const m = live.pick(rnd, (x) => ROLE_PACKAGES[x.role].length > 0);
    if (!m) return yield* provisionVm();
    yield* configure(m, rnd.pick(ROLE_PACKAGES[m.role]));
  }

  /** A new version of a configuration already there: the same configuration id, upserted. */
  function* upgradeSoftware(): Generator<Step> {
    const s = software.pick(
      rnd,
      (r) => machines.get(r.resourceId)?.active === true && r.version < r.pkg.versions.length - 1,
    );
    if (!s) return yield* configureSoftware();
    s.version++;
    yield softwareStep(s, machines.get(s.resourceId) as Machine);
  }

  function* updateResource(): Generator<Step> {
    const m = live.pick(rnd, (x) => x.role !== 'spine');
    if (!m) return yield* provisionHost();
    const kind = rnd.int(10);
    const metadata = { ...m.capabilities.metadata };
    if (kind < 4) {
      // Re-tagged: the whole metadata is replaced (the crate replaces, it does not merge).
      metadata.last_maintenance = formatTimestamp(nowMs() - rnd.int(90) * 86_400_000).slice(0, 10);
      if (m.type === 'Physical') metadata.bios = rnd.pick(['2.3.1', '2.4.0', '2.5.2']);
      if (rnd.chance(0.3)) delete metadata.image;
      m.capabilities.metadata = metadata;
      yield step('ResourceUpdated', {
        resource_id: m.id,
        updates: { hostname: null, capabilities: null, metadata },
      });
    } else if (kind < 7) {
      // Resized (a VM) or upgraded (RAM added to a host): capabilities replace all four.
      const memory = Math.min(2_097_152, (m.capabilities.memory_mb ?? 4_096) * 2);
      m.capabilities = { ...m.capabilities, memory_mb: memory, metadata: { ...metadata, resized: 'true' } };
      yield step('ResourceUpdated', {
        resource_id: m.id,
        updates: { hostname: null, capabilities: { ...m.capabilities }, metadata: null },
      });
    } else if (kind < 9) {
      // Renamed into the new DNS zone.
      m.hostname = m.hostname.includes(DOMAIN)
        ? m.hostname.replace(DOMAIN, 'dc1.corp.example')
        : `${m.hostname.split('.')[0]}.pods.dc1.corp.example`;
      yield step('ResourceUpdated', {
        resource_id: m.id,
        updates: { hostname: m.hostname, capabilities: null, metadata: null },
      });
    } else {
      // An inventory sweep that found nothing to change still touches the resource.
      yield step('ResourceUpdated', {
        resource_id: m.id,
        updates: { hostname: null, capabilities: null, metadata: null },
      });
    }
  }

  /**
   * Removes a machine and what runs on it: guests first, then the machine, then its connections
   * (the connections the decommission saga asks to sever).
   */
  function* decommission(m: Machine, reason: string): Generator<Step> {
    for (const guestId of [...m.guests]) {
      const guest = machines.get(guestId);
      if (guest?.active)
        yield* decommission(guest, `${m.type === 'Physical' ? 'host' : 'parent'} ${m.id} decommissioned`);
    }
    m.guests = [];
    deactivate(m);
    if (m.parent) m.parent.guests = m.parent.guests.filter((g) => g !== m.id);
    yield step('ResourceRemoved', { resource_id: m.id, reason });
    for (const id of m.links) {
      const link = links.get(id);
      if (link?.active) yield* sever(link.c, `resource ${m.id} decommissioned`);
    }
  }

  /** A host leaves: its VMs are live-migrated away first where another hypervisor can take them. */
  function* decommissionHost(): Generator<Step> {
    const host = hosts.size >= 4 ? hosts.pick(rnd) : undefined;
    if (!host) return yield* provisionHost();
    for (const guestId of [...host.guests]) {
      const vm = machines.get(guestId);
      const to = hypervisors.pick(rnd, (h) => h !== host);
      if (vm?.active && to) yield* migrate(vm, to);
    }
    yield* decommission(host, rnd.pick(REMOVAL_REASONS));
  }

  function* retireVm(): Generator<Step> {
    const vm = vms.size >= 6 ? vms.pick(rnd) : undefined;
    if (!vm) return yield* provisionVm();
    yield* decommission(vm, rnd.pick(['retired: service migrated', 'retired: load test finished']));
  }

  /** A host back from repair: registered again under its id, interfaces re-added, re-cabled. */
  function* returnHost(): Generator<Step> {
    const host = removedHosts.pick(rnd);
    if (!host) return yield* provisionHost();
    host.capabilities = {
      ...host.capabilities,
      metadata: {
        ...host.capabilities.metadata,
        serial: `${String(host.capabilities.metadata.serial).slice(0, 2)}${hex(rnd.u32(), 8).toUpperCase()}`,
        refurbished: 'true',
      },
    };
    yield* register(host);
    yield* addInterfaces(host);
    if (host.uplink) yield* connect(host.uplink);
  }

  /** Re-imaged in place: registered again while active, with its current guests and services. */
  function* reimageHost(): Generator<Step> {
    const host = hypervisors.pick(rnd);
    if (!host) return yield* provisionHost('hypervisor');
    host.capabilities.metadata = {
      ...host.capabilities.metadata,
      os: rnd.pick(['NixOS 24.11', 'NixOS 25.05']),
    };
    yield* register(host);
  }

  const bothEndsActive = (c: Connection) =>
    machines.get(c.from_resource)?.active === true && machines.get(c.to_resource)?.active === true;

  function* linkFault(): Generator<Step> {
    const id = activeLinks.pick(rnd, (l) => bothEndsActive((links.get(l) as { c: Connection }).c));
    if (id === undefined) return yield* provisionHost();
    const { c } = links.get(id) as { c: Connection };
    yield* sever(c, rnd.pick(['link down: loss of signal', 'link flapping: CRC errors', 'optic failure']));
    if (rnd.chance(0.5))
      yield* connect(c); // re-seated at once
    else broken.push(c);
  }

  /** A link cut earlier comes back, unless its machine has gone or moved on since. */
  function* repairLink(): Generator<Step> {
    while (broken.length > 0) {
      const c = broken.shift() as Connection;
      const from = machines.get(c.from_resource);
      const current = from?.uplink === undefined || connectionId(from.uplink) === connectionId(c);
      if (links.get(connectionId(c))?.active === false && bothEndsActive(c) && current)
        return yield* connect(c);
    }
    yield* linkFault();
  }

  function* migrateVm(): Generator<Step> {
    const vm = vms.pick(rnd);
    const to = vm && hypervisors.pick(rnd, (h) => h !== vm.parent);
    if (!vm || !to) return yield* provisionHost('hypervisor');
    yield* migrate(vm, to);
  }

  /** Live migration: the link to the old hypervisor severed, one to the new made, the VM re-tagged. */
  function* migrate(vm: Machine, to: Machine): Generator<Step> {
    const from = vm.parent as Machine;
    if (vm.uplink) yield* sever(vm.uplink, `live migration to ${to.id}`);
    from.guests = from.guests.filter((g) => g !== vm.id);
    to.guests.push(vm.id);
    vm.parent = to;
    vm.uplink = makeConnection(vm.id, `${vm.id}-eth0`, to.id, `${to.id}-br0`);
    yield* connect(vm.uplink);
    vm.capabilities.metadata = { ...vm.capabilities.metadata, host: to.id };
    yield step('ResourceUpdated', {
      resource_id: vm.id,
      updates: { hostname: null, capabilities: null, metadata: { ...vm.capabilities.metadata } },
    });
  }

  function* onboardTenant(): Generator<Step> {
    const t = ++tenants;
    const round = Math.ceil(t / TENANTS.length);
    const tenant = `${TENANTS[(t - 1) % TENANTS.length]}${round > 1 ? `-${round}` : ''}`;
    const net: Net = {
      id: `net-tenant-${pad(t, 3)}`,
      name: `tenant ${tenant}`,
      v4: { address: `10.${128 + (Math.floor(t / 256) % 64)}.${t % 256}.0`, prefix_len: 24 },
      v6: rnd.chance(0.7) ? { address: `fd00:100:${hex(t % 65_536, 1)}::`, prefix_len: 64 } : null,
      active: true,
      next: 0,
      tenant,
      members: new Set(),
    };
    yield defineNetwork(net);
    yield* applyPolicy(
      policy(`tenant-isolation-${tenant}`, { Network: net.id }, [
        rule('Access', `src.tenant != "${tenant}"`, 'deny'),
        rule('Security', 'dst.port in [23, 445]', 'deny'),
      ]),
    );
    yield* provisionVm('web', net);
  }

  /** A tenant leaves: its VMs are retired, then its network removed. */
  function* offboardTenant(minimum = 2): Generator<Step> {
    const net = tenantNets.size >= minimum ? tenantNets.pick(rnd) : undefined;
    if (!net) return yield* onboardTenant();
    for (const vm of [...(net.members ?? [])]) {
      yield* decommission(vm, `tenant ${net.tenant} offboarded`);
    }
    yield removeNetwork(net, `tenant ${net.tenant} offboarded`);
  }

  /** The lab network closes and reopens (NetworkDefined again makes it active again). */
  function* toggleLab(): Generator<Step> {
    const lab = network('net-lab');
    yield lab.active ? removeNetwork(lab, 'lab closed for re-cabling') : defineNetwork(lab);
  }

  function* newPolicy(): Generator<Step> {
    const kind = rnd.int(6);
    const revised = kind === 0 ? policies.pick(rnd) : undefined;
    if (revised) {
      // An existing policy revised: the same id, new rules.
      revised.rules = [
        ...revised.rules,
        rule(
          rnd.pick(['Security', 'Access', 'Compliance', 'Performance'] as const),
          'reviewed == false',
          'alert',
        ),
      ].slice(-4);
      return yield* applyPolicy(revised);
    }
    const m = kind <= 2 ? (rnd.chance(0.5) ? hosts.pick(rnd) : vms.pick(rnd)) : undefined;
    if (m) {
      const rules =
        m.role === 'db'
          ? [
              rule('Compliance', 'disk.encrypted == false', 'quarantine'),
              rule('Access', 'user.role != "dba"', 'deny'),
            ]
          : [
              rule('Performance', 'cpu.overcommit_ratio > 4.0', 'alert'),
              rule('Security', 'secure_boot == false', 'alert'),
            ];
      return yield* applyPolicy(policy(`${m.role}-guardrails-${m.id}`, { Resource: m.id }, rules));
    }
    if (kind <= 4) {
      const net = rnd.pick([...networks.values()].filter((n) => n.active));
      const source = net.v4
        ? `${net.v4.address}/${net.v4.prefix_len}`
        : net.v6
          ? `${net.v6.address}/${net.v6.prefix_len}`
          : 'any';
      return yield* applyPolicy(
        policy(`network-guardrails-${net.id}`, { Network: net.id }, [
          rule('Performance', net.id === 'net-storage' ? 'mtu != 9000' : 'utilisation > 0.8', 'alert'),
          rule('Access', `src not in ${source}`, 'log'),
        ]),
      );
    }
    const topic = rnd.pick(['patch-window', 'backup-retention', 'tls-minimum', 'ntp-drift']);
    yield* applyPolicy(
      policy(`global-${topic}-${pad(policies.size + 1, 3)}`, 'Global', [
        rule('Compliance', 'kernel.age_days > 30', 'schedule-reboot'),
        rule('Security', 'tls.min_version < "1.2"', 'deny'),
      ]),
    );
  }

  /** The first act, scripted so that every event type shows early; then the weighted mix, forever. */
  function* stories(): Generator<Iterable<Step>> {
    yield bootstrap();
    yield addRack();
    for (let i = 0; i < 3; i++) yield provisionHost('hypervisor');
    yield provisionHost('storage');
    yield provisionVm('web');
    yield provisionVm('db');
    yield provisionVm('api');
    yield provisionContainer();
    yield updateResource();
    yield newPolicy();
    yield onboardTenant();
    yield migrateVm();
    yield linkFault();
    yield upgradeSoftware();
    yield decommissionHost();
    yield returnHost();
    yield offboardTenant(1);
    yield toggleLab();

    const mix: readonly [number, () => Iterable<Step>][] = [
      [10, () => provisionHost()],
      [18, () => provisionVm()],
      [12, provisionContainer],
      [10, configureSoftware],
      [6, upgradeSoftware],
      [12, updateResource],
      [5, newPolicy],
      [4, linkFault],
      [3, repairLink],
      [4, migrateVm],
      [3, onboardTenant],
      [1, () => offboardTenant()],
      [2, decommissionHost],
      [2, retireVm],
      [2, returnHost],
      [2, reimageHost],
      [1, toggleLab],
    ];
    const weight = mix.reduce((s, [w]) => s + w, 0);
    for (;;) {
      let r = rnd.int(weight);
      for (const [w, story] of mix) {
        if (r < w) {
          yield story();
          break;
        }
        r -= w;
      }
    }
  }

  return { stories };
}

// ---------------------------------------------------------------------------------------------
// Publishing
// ---------------------------------------------------------------------------------------------

export interface PublishDemoOptions {
  /** A JetStream client on the server whose `INFRASTRUCTURE_EVENTS` stream receives the demo. */
  js: JetStreamClient;
  /** How many events to publish. */
  events: number;
  /** Cap in events per second. @default undefined: as fast as the server acknowledges */
  rate?: number;
  /** @default 1 */
  seed?: number;
  /**
   * The first event's append time, epoch milliseconds.
   * @default now with a `rate` (the timestamps then follow the publishing); without one, so the
   *   last event's time is about now
   */
  start?: number;
  /** Publishes awaiting their acknowledgement at once. @default 256 */
  window?: number;
  /**
   * Called with the events acknowledged so far, at most every 100 ms and once at the end.
   * @remarks keep it cheap; it runs on the publishing loop.
   */
  onProgress?: (published: number, total: number) => void;
  /** Stops publishing: in-flight publishes are awaited and the count so far is returned. */
  signal?: AbortSignal;
}

export interface PublishDemoResult {
  /** Events acknowledged by the stream. */
  published: number;
  /** Wall time, milliseconds. */
  ms: number;
}

/** Mean spacing of demo timestamps when there is no rate to follow. */
const FREE_SPACING_MS = 25;

/**
 * Publishes {@link createDemoScenario} to JetStream as the crates do: one message per event on its
 * subject, no headers (so no server-side dedupe: running it twice publishes twice). Publishes are
 * pipelined with a bounded window and paced to `rate` if given.
 *
 * @throws ProsaError `PROSA_STREAM_MISSING` if no stream captures the demo's subjects
 *   (create `INFRASTRUCTURE_EVENTS` first, e.g. with `prosa streams apply` or by starting the worker)
 */
export async function publishDemo(options: PublishDemoOptions): Promise<PublishDemoResult> {
  const { js, events, rate, onProgress, signal } = options;
  const window = Math.max(1, options.window ?? 256);
  const paced = rate !== undefined && rate > 0 && Number.isFinite(rate);
  const spacingMs = paced ? 1000 / (rate as number) : FREE_SPACING_MS;
  const started = performance.now();
  const start = options.start ?? (paced ? Date.now() : Date.now() - Math.max(0, events - 1) * spacingMs);
  const scenario = createDemoScenario({
    events,
    spacingMs,
    start,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });

  // Wrapped so they never reject: the first failure is kept and thrown from the loop.
  const inFlight: Promise<void>[] = [];
  let acked = 0;
  let failure: { error: unknown } | undefined;
  let lastProgress = 0;
  const progress = (force = false) => {
    if (!onProgress) return;
    const now = performance.now();
    if (force || now - lastProgress >= 100) {
      lastProgress = now;
      onProgress(acked, events);
    }
  };
  const acknowledged = () => {
    acked++;
    progress();
  };
  const failed = (error: unknown) => {
    failure ??= { error };
  };

  let i = 0;
  for (const { subject, data } of scenario) {
    if (signal?.aborted || failure) break;
    if (paced) {
      const ahead = started + (i * 1000) / (rate as number) - performance.now();
      if (ahead > 2) await new Promise((r) => setTimeout(r, ahead));
    }
    inFlight.push(js.publish(subject, data).then(acknowledged, failed));
    i++;
    // Acks come back in publish order, so waiting for the oldest keeps the window full.
    if (inFlight.length >= window) await inFlight.shift();
  }
  await Promise.all(inFlight);
  if (failure) throw explainPublishFailure(failure.error);
  progress(true);
  return { published: acked, ms: performance.now() - started };
}

function explainPublishFailure(e: unknown): unknown {
  // @nats-io/jetstream reports a publish nobody stores as JetStreamNotEnabled caused by "no responders".
  const text = `${(e as Error)?.message ?? e} ${((e as Error)?.cause as Error | undefined)?.message ?? ''}`;
  if (/no responders/i.test(text)) {
    return new ProsaError(
      'PROSA_STREAM_MISSING',
      'no stream captures the demo subjects (infrastructure.>): create INFRASTRUCTURE_EVENTS first, with `prosa streams apply` or by starting the worker (`npm start`); if it exists, check that the server runs with JetStream (`prosa doctor`)',
      { cause: e },
    );
  }
  return e;
}
