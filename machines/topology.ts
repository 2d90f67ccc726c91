/**
 * The topology read model's entities (fold rules: docs/schema.md#fold-rules) as pure XState
 * machines: one actor per entity, fed the CIM events that concern it in stream order. Each
 * machine's context IS its table row (the exact column names), and the states where no row may
 * exist carry the tag `'no-row'`: an `Updated`, `Removed`, `Severed` or `NetworkRemoved` for an id
 * never defined leaves no row.
 *
 * Pure: no I/O, no clock, no randomness, no `after`; time is the envelope timestamp of the event.
 * Cheap: one `assign` per handled event, guards only where an event lists several entities.
 *
 * ```
 *   computeResource   unknown ─Registered─▶ active ─Removed─▶ removed ─Registered─▶ active
 *                     (Updated changes active and removed resources; Removed again moves the reason)
 *   network           unknown ─Defined / TopologyDefined─▶ active ─NetworkRemoved─▶ removed ─Defined─▶ active
 *   connection        unknown ─Connected / TopologyDefined─▶ active ─Severed─▶ severed ─Connected─▶ active
 *   iface             unknown ─InterfaceAdded─▶ added          (every later InterfaceAdded replaces the row)
 *   software          unknown ─SoftwareConfigured─▶ configured (likewise)
 *   policy            unknown ─PolicyApplied─▶ applied         (likewise)
 * ```
 */

import {
  type Cidr,
  type ComputeType,
  type Connection,
  connectionId,
  type InfrastructureEvent,
  type InfrastructureEventOf,
  type InfrastructureEventType,
  type Network,
  type PolicyScope,
  type Rule,
} from 'prosa';
import { assign, setup } from 'xstate';

/** The tag of states in which the entity has no row. */
export const NO_ROW = 'no-row';
type Tag = typeof NO_ROW;

/** What the runtime creates each actor with: its key's id. */
export interface EntityInput {
  id: string;
}

// ---------------------------------------------------------------------------------------------
// Rows: each machine's context, column for column. Booleans are 0/1 as SQLite holds them; the
// nulls of a row-less context are placeholders that never reach a table.
// ---------------------------------------------------------------------------------------------

export type ComputeResourceRow = {
  id: string;
  hostname: string | null;
  resource_type: ComputeType | null;
  system: string | null;
  cpu_cores: number | null;
  memory_mb: number | null;
  storage_gb: number | null;
  /** JSON object: `capabilities.metadata`, or the last `updates.metadata`. */
  metadata: Record<string, string>;
  is_active: 0 | 1;
  removed_reason: string | null;
  /** Envelope timestamp of the last event that changed the row. */
  last_updated: string | null;
};

export type InterfaceRow = {
  id: string;
  resource_id: string | null;
  network_id: string | null;
  /** JSON array of address strings. */
  addresses: string[];
};

export type NetworkType = 'IPv4' | 'IPv6' | 'DualStack' | 'Unknown';

export type NetworkRow = {
  id: string;
  name: string | null;
  network_type: NetworkType | null;
  /** "a.b.c.d/n" or null. */
  cidr_v4: string | null;
  cidr_v6: string | null;
  is_active: 0 | 1;
  last_updated: string | null;
};

export type ConnectionRow = {
  /** {@link connectionId}: `from_resource:from_interface--to_resource:to_interface`. */
  id: string;
  source_id: string | null;
  source_interface: string | null;
  target_id: string | null;
  target_interface: string | null;
  connection_type: 'Physical' | null;
  is_active: 0 | 1;
  last_updated: string | null;
};

export type SoftwareConfigurationRow = {
  id: string;
  resource_id: string | null;
  software_id: string | null;
  name: string | null;
  version: string | null;
  /**
   * `configuration_data` as JSON text. Text, not the value, because it may be any JSON: a string
   * or a boolean would otherwise be stored as plain text or 0/1 and not read back as JSON.
   */
  configuration: string | null;
  /** JSON array of software ids. */
  dependencies: string[];
};

export type PolicyRow = {
  id: string;
  name: string | null;
  /** "global", "resource:<id>" or "network:<id>". */
  scope: string | null;
  /** JSON array of `{rule_type, condition, action}`. */
  rules: Rule[];
};

// ---------------------------------------------------------------------------------------------
// Derivations
// ---------------------------------------------------------------------------------------------

/** "DualStack" with both CIDRs, "IPv4" or "IPv6" with one, "Unknown" with none (as the crate's view). */
export function networkType(n: Pick<Network, 'cidr_v4' | 'cidr_v6'>): NetworkType {
  if (n.cidr_v4 != null) return n.cidr_v6 != null ? 'DualStack' : 'IPv4';
  return n.cidr_v6 != null ? 'IPv6' : 'Unknown';
}

/** `{address, prefix_len}` as "address/prefix_len". */
export const cidrText = (c: Cidr | null | undefined): string | null =>
  c == null ? null : `${c.address}/${c.prefix_len}`;

/** "global", "resource:<id>" or "network:<id>" (the crate's `Display` of `PolicyScope`). */
export function scopeText(s: PolicyScope): string {
  if (s === 'Global') return 'global';
  return 'Resource' in s ? `resource:${s.Resource}` : `network:${s.Network}`;
}

function narrow<T extends InfrastructureEventType>(
  event: InfrastructureEvent,
  type: T,
): asserts event is Extract<InfrastructureEvent, { type: T }> {
  if (event.type !== type)
    throw new Error(`topology machine: expected a ${type} event here, got ${event.type}`);
}

const networkFields = (n: Network, at: string) => ({
  name: n.name,
  network_type: networkType(n),
  cidr_v4: cidrText(n.cidr_v4),
  cidr_v6: cidrText(n.cidr_v6),
  is_active: 1 as const,
  last_updated: at,
});

const connectionFields = (c: Connection, at: string) => ({
  source_id: c.from_resource,
  source_interface: c.from_interface,
  target_id: c.to_resource,
  target_interface: c.to_interface,
  connection_type: 'Physical' as const,
  is_active: 1 as const,
  last_updated: at,
});

// In a topology the same entity may be listed twice: like an upsert of each in order, the last wins.
const listedNetwork = (e: InfrastructureEventOf<'NetworkTopologyDefined'>, id: string) =>
  e.data.networks.findLast((n) => n.id === id);
const listedConnection = (e: InfrastructureEventOf<'NetworkTopologyDefined'>, id: string) =>
  e.data.connections.findLast((c) => connectionId(c) === id);

// ---------------------------------------------------------------------------------------------
// Machines
// ---------------------------------------------------------------------------------------------

/** A compute resource (table `compute_resources`). */
export const computeResource = setup({
  types: {
    context: {} as ComputeResourceRow,
    events: {} as InfrastructureEvent,
    input: {} as EntityInput,
    tags: {} as Tag,
  },
  actions: {
    /** Upsert as active: a removed id registered again is active again, its removed_reason cleared. */
    register: assign(({ event }) => {
      narrow(event, 'ComputeResourceRegistered');
      const r = event.data.resource;
      const c = r.capabilities;
      return {
        hostname: r.hostname,
        resource_type: r.resource_type,
        system: r.system,
        cpu_cores: c.cpu_cores ?? null,
        memory_mb: c.memory_mb ?? null,
        storage_gb: c.storage_gb ?? null,
        metadata: c.metadata,
        is_active: 1 as const,
        removed_reason: null,
        last_updated: event.timestamp,
      };
    }),
    /**
     * Non-null hostname replaces it; non-null capabilities replace the three numbers (their nulls
     * mean null) and metadata; then non-null metadata replaces metadata (replace, never merge).
     * last_updated moves even when all three are null.
     */
    update: assign(({ context, event }) => {
      narrow(event, 'ResourceUpdated');
      const u = event.data.updates;
      const c = u.capabilities;
      return c == null
        ? {
            hostname: u.hostname ?? context.hostname,
            metadata: u.metadata ?? context.metadata,
            last_updated: event.timestamp,
          }
        : {
            hostname: u.hostname ?? context.hostname,
            cpu_cores: c.cpu_cores ?? null,
            memory_mb: c.memory_mb ?? null,
            storage_gb: c.storage_gb ?? null,
            metadata: u.metadata ?? c.metadata,
            last_updated: event.timestamp,
          };
    }),
    /** Inactive with the reason; its interfaces and connections are left as they are. */
    remove: assign(({ event }) => {
      narrow(event, 'ResourceRemoved');
      return { is_active: 0 as const, removed_reason: event.data.reason, last_updated: event.timestamp };
    }),
  },
}).createMachine({
  id: 'computeResource',
  context: ({ input }) => ({
    id: input.id,
    hostname: null,
    resource_type: null,
    system: null,
    cpu_cores: null,
    memory_mb: null,
    storage_gb: null,
    metadata: {},
    is_active: 0,
    removed_reason: null,
    last_updated: null,
  }),
  initial: 'unknown',
  states: {
    /** Never registered: Updated and Removed leave no row. */
    unknown: {
      tags: NO_ROW,
      on: { ComputeResourceRegistered: { target: 'active', actions: 'register' } },
    },
    active: {
      on: {
        ComputeResourceRegistered: { actions: 'register' },
        ResourceUpdated: { actions: 'update' },
        ResourceRemoved: { target: 'removed', actions: 'remove' },
      },
    },
    removed: {
      on: {
        ComputeResourceRegistered: { target: 'active', actions: 'register' },
        ResourceUpdated: { actions: 'update' },
        ResourceRemoved: { actions: 'remove' },
      },
    },
  },
});

/** A network interface (table `interfaces`). Every InterfaceAdded upserts it. */
export const iface = setup({
  types: {
    context: {} as InterfaceRow,
    events: {} as InfrastructureEvent,
    input: {} as EntityInput,
    tags: {} as Tag,
  },
  actions: {
    add: assign(({ event }) => {
      narrow(event, 'InterfaceAdded');
      const i = event.data.interface;
      return { resource_id: i.resource_id, network_id: i.network_id ?? null, addresses: i.addresses };
    }),
  },
}).createMachine({
  id: 'interface',
  context: ({ input }) => ({ id: input.id, resource_id: null, network_id: null, addresses: [] }),
  initial: 'unknown',
  states: {
    unknown: { tags: NO_ROW, on: { InterfaceAdded: { target: 'added', actions: 'add' } } },
    added: { on: { InterfaceAdded: { actions: 'add' } } },
  },
});

/** A network (table `networks`): defined alone or in a topology, removed by NetworkRemoved. */
export const network = setup({
  types: {
    context: {} as NetworkRow,
    events: {} as InfrastructureEvent,
    input: {} as EntityInput,
    tags: {} as Tag,
  },
  actions: {
    define: assign(({ event }) => {
      narrow(event, 'NetworkDefined');
      return networkFields(event.data.network, event.timestamp);
    }),
    defineInTopology: assign(({ context, event }) => {
      narrow(event, 'NetworkTopologyDefined');
      const n = listedNetwork(event, context.id);
      return n ? networkFields(n, event.timestamp) : {};
    }),
    remove: assign(({ event }) => {
      narrow(event, 'NetworkRemoved');
      return { is_active: 0 as const, last_updated: event.timestamp };
    }),
  },
  guards: {
    /** The topology lists this network (it only reaches actors it lists; this keeps a stray one harmless). */
    listed: ({ context, event }) =>
      event.type === 'NetworkTopologyDefined' && listedNetwork(event, context.id) !== undefined,
  },
}).createMachine({
  id: 'network',
  context: ({ input }) => ({
    id: input.id,
    name: null,
    network_type: null,
    cidr_v4: null,
    cidr_v6: null,
    is_active: 0,
    last_updated: null,
  }),
  initial: 'unknown',
  states: {
    /** Never defined: NetworkRemoved leaves no row. */
    unknown: {
      tags: NO_ROW,
      on: {
        NetworkDefined: { target: 'active', actions: 'define' },
        NetworkTopologyDefined: { guard: 'listed', target: 'active', actions: 'defineInTopology' },
      },
    },
    active: {
      on: {
        NetworkDefined: { actions: 'define' },
        NetworkTopologyDefined: { guard: 'listed', actions: 'defineInTopology' },
        NetworkRemoved: { target: 'removed', actions: 'remove' },
      },
    },
    removed: {
      on: {
        NetworkDefined: { target: 'active', actions: 'define' },
        NetworkTopologyDefined: { guard: 'listed', target: 'active', actions: 'defineInTopology' },
        NetworkRemoved: { actions: 'remove' },
      },
    },
  },
});

/** A physical connection (table `connections`), keyed by {@link connectionId}. */
export const connection = setup({
  types: {
    context: {} as ConnectionRow,
    events: {} as InfrastructureEvent,
    input: {} as EntityInput,
    tags: {} as Tag,
  },
  actions: {
    connect: assign(({ event }) => {
      narrow(event, 'ResourcesConnected');
      return connectionFields(event.data.connection, event.timestamp);
    }),
    connectInTopology: assign(({ context, event }) => {
      narrow(event, 'NetworkTopologyDefined');
      const c = listedConnection(event, context.id);
      return c ? connectionFields(c, event.timestamp) : {};
    }),
    sever: assign(({ event }) => {
      narrow(event, 'ConnectionSevered');
      return { is_active: 0 as const, last_updated: event.timestamp };
    }),
  },
  guards: {
    listed: ({ context, event }) =>
      event.type === 'NetworkTopologyDefined' && listedConnection(event, context.id) !== undefined,
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({
    id: input.id,
    source_id: null,
    source_interface: null,
    target_id: null,
    target_interface: null,
    connection_type: null,
    is_active: 0,
    last_updated: null,
  }),
  initial: 'unknown',
  states: {
    /** Never connected: ConnectionSevered leaves no row. */
    unknown: {
      tags: NO_ROW,
      on: {
        ResourcesConnected: { target: 'active', actions: 'connect' },
        NetworkTopologyDefined: { guard: 'listed', target: 'active', actions: 'connectInTopology' },
      },
    },
    active: {
      on: {
        ResourcesConnected: { actions: 'connect' },
        NetworkTopologyDefined: { guard: 'listed', actions: 'connectInTopology' },
        ConnectionSevered: { target: 'severed', actions: 'sever' },
      },
    },
    severed: {
      on: {
        ResourcesConnected: { target: 'active', actions: 'connect' },
        NetworkTopologyDefined: { guard: 'listed', target: 'active', actions: 'connectInTopology' },
        ConnectionSevered: { actions: 'sever' },
      },
    },
  },
});

/** A software configuration (table `software_configurations`). Every SoftwareConfigured upserts it. */
export const software = setup({
  types: {
    context: {} as SoftwareConfigurationRow,
    events: {} as InfrastructureEvent,
    input: {} as EntityInput,
    tags: {} as Tag,
  },
  actions: {
    configure: assign(({ event }) => {
      narrow(event, 'SoftwareConfigured');
      const c = event.data.configuration;
      return {
        resource_id: c.resource_id,
        software_id: c.software.id,
        name: c.software.name,
        version: c.software.version,
        configuration: JSON.stringify(c.configuration_data ?? null),
        dependencies: c.dependencies,
      };
    }),
  },
}).createMachine({
  id: 'softwareConfiguration',
  context: ({ input }) => ({
    id: input.id,
    resource_id: null,
    software_id: null,
    name: null,
    version: null,
    configuration: null,
    dependencies: [],
  }),
  initial: 'unknown',
  states: {
    unknown: { tags: NO_ROW, on: { SoftwareConfigured: { target: 'configured', actions: 'configure' } } },
    configured: { on: { SoftwareConfigured: { actions: 'configure' } } },
  },
});

/** A policy (table `policies`). Every PolicyApplied upserts it. */
export const policy = setup({
  types: {
    context: {} as PolicyRow,
    events: {} as InfrastructureEvent,
    input: {} as EntityInput,
    tags: {} as Tag,
  },
  actions: {
    apply: assign(({ event }) => {
      narrow(event, 'PolicyApplied');
      const p = event.data.policy;
      // Only the contract's three fields of each rule: unknown extra fields are ignored, not stored.
      const rules = p.rules.map((r) => ({
        rule_type: r.rule_type,
        condition: r.condition,
        action: r.action,
      }));
      return { name: p.name, scope: scopeText(p.scope), rules };
    }),
  },
}).createMachine({
  id: 'policy',
  context: ({ input }) => ({ id: input.id, name: null, scope: null, rules: [] }),
  initial: 'unknown',
  states: {
    unknown: { tags: NO_ROW, on: { PolicyApplied: { target: 'applied', actions: 'apply' } } },
    applied: { on: { PolicyApplied: { actions: 'apply' } } },
  },
});
