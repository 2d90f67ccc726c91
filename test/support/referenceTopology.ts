/**
 * The plain reference for the topology read model: one loop over decoded events that builds the six
 * tables of docs/schema.md#topology-read-model as rows keyed by id, written from its fold rules
 * alone (no XState, nothing shared with machines/topology.ts). Properties compare the machines, and
 * the engine, against it: `expect(readTopology(db)).toEqual(referenceTopology(events))`.
 *
 * Rows hold what the SQLite tables hold: is_active 0/1, timestamps as text, and the JSON columns
 * (metadata, addresses, configuration, dependencies, rules) as their parsed values.
 */
import Database from 'better-sqlite3';
import type { InfrastructureEvent } from '../../src/cim/infrastructure.js';

export interface ComputeResourceRecord {
  id: string;
  hostname: string;
  resource_type: string;
  system: string;
  cpu_cores: number | null;
  memory_mb: number | null;
  storage_gb: number | null;
  metadata: Record<string, string>;
  is_active: number;
  removed_reason: string | null;
  last_updated: string;
}

export interface InterfaceRecord {
  id: string;
  resource_id: string;
  network_id: string | null;
  addresses: string[];
}

export interface NetworkRecord {
  id: string;
  name: string;
  network_type: string;
  cidr_v4: string | null;
  cidr_v6: string | null;
  is_active: number;
  last_updated: string;
}

export interface ConnectionRecord {
  id: string;
  source_id: string;
  source_interface: string;
  target_id: string;
  target_interface: string;
  connection_type: string;
  is_active: number;
  last_updated: string;
}

export interface SoftwareConfigurationRecord {
  id: string;
  resource_id: string;
  software_id: string;
  name: string;
  version: string;
  configuration: unknown;
  dependencies: string[];
}

export interface PolicyRecord {
  id: string;
  name: string;
  scope: string;
  rules: unknown[];
}

/** The six tables, each a map from primary key to row. */
export interface TopologyTables {
  compute_resources: Map<string, ComputeResourceRecord>;
  interfaces: Map<string, InterfaceRecord>;
  networks: Map<string, NetworkRecord>;
  connections: Map<string, ConnectionRecord>;
  software_configurations: Map<string, SoftwareConfigurationRecord>;
  policies: Map<string, PolicyRecord>;
}

export type TopologyTable = keyof TopologyTables;

export const topologyTables: readonly TopologyTable[] = [
  'compute_resources',
  'interfaces',
  'networks',
  'connections',
  'software_configurations',
  'policies',
];

/** The columns that hold JSON text in SQLite, per table. */
export const jsonColumns: { readonly [T in TopologyTable]: readonly string[] } = {
  compute_resources: ['metadata'],
  interfaces: ['addresses'],
  networks: [],
  connections: [],
  software_configurations: ['configuration', 'dependencies'],
  policies: ['rules'],
};

export const emptyTopology = (): TopologyTables => ({
  compute_resources: new Map(),
  interfaces: new Map(),
  networks: new Map(),
  connections: new Map(),
  software_configurations: new Map(),
  policies: new Map(),
});

/** A JSON value as it comes back from a JSON column: a deep copy through its text. */
const stored = <T>(v: T): T => JSON.parse(JSON.stringify(v ?? null)) as T;

const NETWORK_TYPES = ['Unknown', 'IPv4', 'IPv6', 'DualStack'] as const;

/** The single-pass fold of docs/schema.md#fold-rules, in stream order. */
export function referenceTopology(events: Iterable<InfrastructureEvent>): TopologyTables {
  const t = emptyTopology();

  const upsertNetwork = (
    n: { id: string; name: string; cidr_v4: Cidr | null; cidr_v6: Cidr | null },
    at: string,
  ): void => {
    const v4 = n.cidr_v4 ? `${n.cidr_v4.address}/${n.cidr_v4.prefix_len}` : null;
    const v6 = n.cidr_v6 ? `${n.cidr_v6.address}/${n.cidr_v6.prefix_len}` : null;
    t.networks.set(n.id, {
      id: n.id,
      name: n.name,
      network_type: NETWORK_TYPES[(v4 === null ? 0 : 1) + (v6 === null ? 0 : 2)] as string,
      cidr_v4: v4,
      cidr_v6: v6,
      is_active: 1,
      last_updated: at,
    });
  };

  const upsertConnection = (
    c: { from_resource: string; from_interface: string; to_resource: string; to_interface: string },
    at: string,
  ): void => {
    const id = [c.from_resource, ':', c.from_interface, '--', c.to_resource, ':', c.to_interface].join('');
    t.connections.set(id, {
      id,
      source_id: c.from_resource,
      source_interface: c.from_interface,
      target_id: c.to_resource,
      target_interface: c.to_interface,
      connection_type: 'Physical',
      is_active: 1,
      last_updated: at,
    });
  };

  for (const e of events) {
    const at = e.timestamp;
    switch (e.type) {
      case 'ComputeResourceRegistered': {
        const r = e.data.resource;
        t.compute_resources.set(r.id, {
          id: r.id,
          hostname: r.hostname,
          resource_type: r.resource_type,
          system: r.system,
          cpu_cores: r.capabilities.cpu_cores ?? null,
          memory_mb: r.capabilities.memory_mb ?? null,
          storage_gb: r.capabilities.storage_gb ?? null,
          metadata: stored(r.capabilities.metadata),
          is_active: 1,
          removed_reason: null,
          last_updated: at,
        });
        break;
      }
      case 'ResourceUpdated': {
        const row = t.compute_resources.get(e.data.resource_id);
        if (row === undefined) break; // unknown id: no row, not an error
        const { hostname, capabilities, metadata } = e.data.updates;
        if (hostname != null) row.hostname = hostname;
        if (capabilities != null) {
          row.cpu_cores = capabilities.cpu_cores ?? null;
          row.memory_mb = capabilities.memory_mb ?? null;
          row.storage_gb = capabilities.storage_gb ?? null;
          row.metadata = stored(capabilities.metadata);
        }
        if (metadata != null) row.metadata = stored(metadata);
        row.last_updated = at;
        break;
      }
      case 'ResourceRemoved': {
        const row = t.compute_resources.get(e.data.resource_id);
        if (row === undefined) break;
        row.is_active = 0;
        row.removed_reason = e.data.reason;
        row.last_updated = at;
        break;
      }
      case 'InterfaceAdded': {
        const i = e.data.interface;
        t.interfaces.set(i.id, {
          id: i.id,
          resource_id: i.resource_id,
          network_id: i.network_id ?? null,
          addresses: stored(i.addresses),
        });
        break;
      }
      case 'NetworkDefined':
        upsertNetwork(e.data.network, at);
        break;
      case 'NetworkTopologyDefined':
        for (const n of e.data.networks) upsertNetwork(n, at);
        for (const c of e.data.connections) upsertConnection(c, at);
        break;
      case 'ResourcesConnected':
        upsertConnection(e.data.connection, at);
        break;
      case 'ConnectionSevered': {
        const c = e.data.connection;
        const row = t.connections.get(
          `${c.from_resource}:${c.from_interface}--${c.to_resource}:${c.to_interface}`,
        );
        if (row === undefined) break;
        row.is_active = 0;
        row.last_updated = at;
        break;
      }
      case 'NetworkRemoved': {
        const row = t.networks.get(e.data.network_id);
        if (row === undefined) break;
        row.is_active = 0;
        row.last_updated = at;
        break;
      }
      case 'SoftwareConfigured': {
        const c = e.data.configuration;
        t.software_configurations.set(c.id, {
          id: c.id,
          resource_id: c.resource_id,
          software_id: c.software.id,
          name: c.software.name,
          version: c.software.version,
          configuration: stored(c.configuration_data),
          dependencies: stored(c.dependencies),
        });
        break;
      }
      case 'PolicyApplied': {
        const p = e.data.policy;
        const scope =
          typeof p.scope === 'string'
            ? p.scope.toLowerCase()
            : Object.entries(p.scope)
                .map(([kind, id]) => `${kind.toLowerCase()}:${id}`)
                .join('');
        const rules = p.rules.map(({ rule_type, condition, action }) => ({ rule_type, condition, action }));
        t.policies.set(p.id, { id: p.id, name: p.name, scope, rules: stored(rules) });
        break;
      }
    }
  }
  return t;
}

interface Cidr {
  address: string;
  prefix_len: number;
}

/** A row as SQLite returns it, with its JSON columns parsed. */
export function parseStoredRow(table: TopologyTable, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...row };
  delete out.prosa_state; // the engine's record of the actor state, not part of the model
  for (const column of jsonColumns[table]) {
    const text = out[column];
    out[column] = typeof text === 'string' ? JSON.parse(text) : text;
  }
  return out;
}

/** What is enough of a better-sqlite3 `Database` to read the tables. */
export interface ReadableDatabase {
  prepare(sql: string): { all(...params: unknown[]): unknown[] };
}

/** The six tables of a topology database, in the reference's shape. */
export function readTopology(db: ReadableDatabase): TopologyTables {
  const t = emptyTopology();
  for (const table of topologyTables) {
    const rows = db.prepare(`SELECT * FROM ${table} ORDER BY id`).all() as Record<string, unknown>[];
    const map = t[table] as Map<string, unknown>;
    for (const row of rows) map.set(row.id as string, parseStoredRow(table, row));
  }
  return t;
}

/** The six tables of the topology database file at `path`, read through its own read-only handle. */
export function readTopologyFile(path: string): TopologyTables {
  const db = new Database(path, { readonly: true });
  try {
    return readTopology(db);
  } finally {
    db.close();
  }
}
