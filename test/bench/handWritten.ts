/**
 * The scale bench's baseline: the topology read model as a team writes it by hand. One durable pull
 * consumer (ack-all), JSON.parse, a switch on event_type implementing the fold rules
 * (docs/schema.md#fold-rules) as one upsert or update per touched row, one transaction per 1,000
 * messages with a checkpoint row, an ack of the batch's last message after the commit, WAL and
 * synchronous=NORMAL as prosa opens SQLite. No actors, no snapshots, no validation.
 */
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamManager,
  jetstream,
} from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { topologySchema } from '../../projections/topology.schema.js';

const BATCH = 1_000;

// The wire shapes this worker reads (docs/wire-format.md), as loosely as a hand-written worker does.
type Cidr = { address: string; prefix_len: number } | null;
type Net = { id: string; name: string; cidr_v4: Cidr; cidr_v6: Cidr };
type Conn = { from_resource: string; from_interface: string; to_resource: string; to_interface: string };
type Caps = {
  cpu_cores: number | null;
  memory_mb: number | null;
  storage_gb: number | null;
  metadata: Record<string, string>;
};
type Scope = 'Global' | { Resource: string } | { Network: string };
type Rule = { rule_type: string; condition: string; action: string };
// biome-ignore lint/suspicious/noExplicitAny: the payload is read field by field, per event type.
type Payload = any;

const connId = (c: Conn) => `${c.from_resource}:${c.from_interface}--${c.to_resource}:${c.to_interface}`;
const cidr = (c: Cidr) => (c == null ? null : `${c.address}/${c.prefix_len}`);
const netType = (n: Net) =>
  n.cidr_v4 != null ? (n.cidr_v6 != null ? 'DualStack' : 'IPv4') : n.cidr_v6 != null ? 'IPv6' : 'Unknown';
const scope = (s: Scope) =>
  s === 'Global' ? 'global' : 'Resource' in s ? `resource:${s.Resource}` : `network:${s.Network}`;

/** The tables (projections/topology.schema.ts), the statements, and the fold of one event. */
export function handWrittenStore(path: string) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  if (!db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'compute_resources'").get()) {
    for (const m of topologySchema.migrations) db.exec(m);
    db.exec('CREATE TABLE checkpoint (worker TEXT PRIMARY KEY, seq INTEGER NOT NULL)');
  }
  const s = {
    register: db.prepare(
      `INSERT INTO compute_resources VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, NULL, ?) ON CONFLICT (id) DO UPDATE SET
       hostname = excluded.hostname, resource_type = excluded.resource_type, system = excluded.system,
       cpu_cores = excluded.cpu_cores, memory_mb = excluded.memory_mb, storage_gb = excluded.storage_gb,
       metadata = excluded.metadata, is_active = 1, removed_reason = NULL, last_updated = excluded.last_updated`,
    ),
    update: db.prepare(
      `UPDATE compute_resources SET hostname = coalesce(?, hostname), metadata = coalesce(?, metadata),
       last_updated = ? WHERE id = ?`,
    ),
    updateCapabilities: db.prepare(
      `UPDATE compute_resources SET hostname = coalesce(?, hostname), cpu_cores = ?, memory_mb = ?,
       storage_gb = ?, metadata = ?, last_updated = ? WHERE id = ?`,
    ),
    remove: db.prepare(
      'UPDATE compute_resources SET is_active = 0, removed_reason = ?, last_updated = ? WHERE id = ?',
    ),
    iface: db.prepare(
      `INSERT INTO interfaces VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET
       resource_id = excluded.resource_id, network_id = excluded.network_id, addresses = excluded.addresses`,
    ),
    network: db.prepare(
      `INSERT INTO networks VALUES (?, ?, ?, ?, ?, 1, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name,
       network_type = excluded.network_type, cidr_v4 = excluded.cidr_v4, cidr_v6 = excluded.cidr_v6,
       is_active = 1, last_updated = excluded.last_updated`,
    ),
    networkRemoved: db.prepare('UPDATE networks SET is_active = 0, last_updated = ? WHERE id = ?'),
    connect: db.prepare(
      `INSERT INTO connections VALUES (?, ?, ?, ?, ?, 'Physical', 1, ?) ON CONFLICT (id) DO UPDATE SET
       source_id = excluded.source_id, source_interface = excluded.source_interface,
       target_id = excluded.target_id, target_interface = excluded.target_interface,
       connection_type = 'Physical', is_active = 1, last_updated = excluded.last_updated`,
    ),
    sever: db.prepare('UPDATE connections SET is_active = 0, last_updated = ? WHERE id = ?'),
    software: db.prepare(
      `INSERT INTO software_configurations VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET
       resource_id = excluded.resource_id, software_id = excluded.software_id, name = excluded.name,
       version = excluded.version, configuration = excluded.configuration, dependencies = excluded.dependencies`,
    ),
    policy: db.prepare(
      `INSERT INTO policies VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET
       name = excluded.name, scope = excluded.scope, rules = excluded.rules`,
    ),
    checkpoint: db.prepare(
      'INSERT INTO checkpoint VALUES (?, ?) ON CONFLICT (worker) DO UPDATE SET seq = excluded.seq',
    ),
  };

  const connect = (c: Conn, at: string) =>
    s.connect.run(connId(c), c.from_resource, c.from_interface, c.to_resource, c.to_interface, at);
  const network = (n: Net, at: string) =>
    s.network.run(n.id, n.name, netType(n), cidr(n.cidr_v4), cidr(n.cidr_v6), at);

  function apply(type: string, d: Payload): void {
    const at: string = d.timestamp;
    switch (type) {
      case 'ComputeResourceRegistered': {
        const r = d.resource;
        const c: Caps = r.capabilities;
        s.register.run(
          r.id,
          r.hostname,
          r.resource_type,
          r.system,
          c.cpu_cores,
          c.memory_mb,
          c.storage_gb,
          JSON.stringify(c.metadata),
          at,
        );
        return;
      }
      case 'ResourceUpdated': {
        const u = d.updates;
        const c: Caps | null = u.capabilities ?? null;
        const metadata = u.metadata == null ? null : JSON.stringify(u.metadata);
        if (c == null) s.update.run(u.hostname ?? null, metadata, at, d.resource_id);
        else
          s.updateCapabilities.run(
            u.hostname ?? null,
            c.cpu_cores,
            c.memory_mb,
            c.storage_gb,
            metadata ?? JSON.stringify(c.metadata),
            at,
            d.resource_id,
          );
        return;
      }
      case 'ResourceRemoved':
        s.remove.run(d.reason, at, d.resource_id);
        return;
      case 'InterfaceAdded': {
        const i = d.interface;
        s.iface.run(i.id, i.resource_id, i.network_id ?? null, JSON.stringify(i.addresses));
        return;
      }
      case 'NetworkDefined':
        network(d.network, at);
        return;
      case 'NetworkTopologyDefined':
        // Upserting each listing in order: an entity listed twice ends with its last listing.
        for (const n of d.networks as Net[]) network(n, at);
        for (const c of d.connections as Conn[]) connect(c, at);
        return;
      case 'NetworkRemoved':
        s.networkRemoved.run(at, d.network_id);
        return;
      case 'ResourcesConnected':
        connect(d.connection, at);
        return;
      case 'ConnectionSevered':
        s.sever.run(at, connId(d.connection));
        return;
      case 'SoftwareConfigured': {
        const c = d.configuration;
        s.software.run(
          c.id,
          c.resource_id,
          c.software.id,
          c.software.name,
          c.software.version,
          JSON.stringify(c.configuration_data ?? null),
          JSON.stringify(c.dependencies),
        );
        return;
      }
      case 'PolicyApplied': {
        const p = d.policy;
        const rules = (p.rules as Rule[]).map((r) => ({
          rule_type: r.rule_type,
          condition: r.condition,
          action: r.action,
        }));
        s.policy.run(p.id, p.name, scope(p.scope), JSON.stringify(rules));
        return;
      }
    }
  }

  return { db, apply, checkpoint: (worker: string, seq: number) => s.checkpoint.run(worker, seq) };
}

export interface HandWrittenWorker {
  /** Commits an open batch and stops consuming. */
  stop(): Promise<void>;
}

/** Creates durable `durable` from the stream's start (ack-all) and folds every message into `path`. */
export async function startHandWritten(
  nc: NatsConnection,
  jsm: JetStreamManager,
  o: { stream: string; durable: string; path: string },
): Promise<HandWrittenWorker> {
  const store = handWrittenStore(o.path);
  await jsm.consumers.add(o.stream, {
    durable_name: o.durable,
    ack_policy: AckPolicy.All,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 10 * BATCH,
    ack_wait: nanos(60_000),
  });
  const consumer = await jetstream(nc).consumers.get(o.stream, o.durable);
  const decoder = new TextDecoder();
  let inBatch = 0;
  let failure: unknown;
  const messages: ConsumerMessages = await consumer.consume({
    max_messages: BATCH,
    callback: (m) => {
      try {
        if (inBatch === 0) store.db.exec('BEGIN');
        const envelope = JSON.parse(decoder.decode(m.data));
        const type: string = envelope.event_type;
        store.apply(type, envelope.data[type]);
        if (++inBatch === BATCH || m.info.pending === 0) {
          store.checkpoint(o.durable, m.seq);
          store.db.exec('COMMIT');
          inBatch = 0;
          m.ack(); // ack-all: every message up to this one
        }
      } catch (e) {
        failure ??= e;
        messages.stop();
      }
    },
  });
  return {
    async stop() {
      messages.stop();
      if (store.db.inTransaction) store.db.exec('COMMIT');
      store.db.close();
      if (failure) throw failure;
    },
  };
}
