/** What the demo world is built from: hardware, software packages, tenants and the reasons things go. */
import type { Package, Role } from './model.js';

/** Hosts a rack's top-of-rack switch takes before the next rack is built. */
export const PORTS_PER_RACK = 16;
export const DOMAIN = 'dc1.example.net';

const pkg = (
  name: string,
  versions: readonly string[],
  dependencies: readonly string[],
  config: Package['config'],
  nix = true,
): Package => ({ name, versions, dependencies, config, nix });

export const PACKAGES = {
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
export const APPS: readonly Package[] = [
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

export const ROLE_PACKAGES: { readonly [R in Role]: readonly Package[] } = {
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

export const VM_ROLES: readonly Role[] = ['web', 'web', 'api', 'api', 'db', 'cache', 'queue', 'mon', 'ci'];
export const CONTAINER_PARENTS: readonly Role[] = ['api', 'ci'];
export const TENANTS = [
  'acme-retail',
  'globex',
  'initech',
  'umbrella-labs',
  'hooli',
  'stark-industries',
  'wayne-ent',
];

export const HARDWARE = [
  { vendor: 'Dell', model: 'PowerEdge R760', system: 'x86_64-linux', cpu: [64, 96, 128] },
  { vendor: 'HPE', model: 'ProLiant DL380 Gen11', system: 'x86_64-linux', cpu: [48, 64, 96] },
  { vendor: 'Supermicro', model: 'AS-1115HS-TNR', system: 'x86_64-linux', cpu: [64, 128] },
  { vendor: 'Gigabyte', model: 'R272-P30 (Ampere Altra)', system: 'aarch64-linux', cpu: [80, 128] },
] as const;

export const REMOVAL_REASONS = [
  'end of life: warranty expired',
  'hardware fault: failed DIMM, sent for RMA',
  'hardware fault: PSU failure, sent for RMA',
  'consolidation: workloads moved to denser hosts',
] as const;
