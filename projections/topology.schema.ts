/**
 * The topology read model's SQLite schema (docs/schema.md#topology-read-model): six tables whose
 * columns are the topology machines' contexts (machines/topology.ts), three views of what is
 * active, and the indexes the usual questions need ("what is connected to r1?", "which interfaces
 * are on n1?").
 *
 * Each string is one migration, run once and in order. Append to change the schema; never edit
 * one that has shipped (bump the projection's version to rebuild instead).
 *
 * Constraints are few on purpose: a row the engine cannot write fails its whole batch, so only what
 * every machine always sets (id, is_active, last_updated) is NOT NULL.
 *
 * Column conventions: JSON columns hold JSON text (objects and arrays as the engine writes them;
 * `software_configurations.configuration` is written as JSON text by its machine, since it may be
 * any JSON value); `is_active` is 0/1; `last_updated` is the envelope timestamp of the last event
 * that changed the row, RFC 3339 text as it came (compare as instants, not as text: fractions and
 * offsets vary).
 */
import type { ProjectionSchema } from 'prosa';

export const topologySchema: ProjectionSchema = {
  migrations: [
    `CREATE TABLE compute_resources (
      id             TEXT PRIMARY KEY NOT NULL,
      hostname       TEXT,
      resource_type  TEXT,            -- 'Physical' | 'VirtualMachine' | 'Container'
      system         TEXT,            -- Nix system, e.g. 'x86_64-linux'
      cpu_cores      INTEGER,
      memory_mb      INTEGER,
      storage_gb     INTEGER,
      metadata       TEXT,            -- JSON object of strings
      is_active      INTEGER NOT NULL CHECK (is_active IN (0, 1)),
      removed_reason TEXT,
      last_updated   TEXT NOT NULL
    )`,
    `CREATE TABLE interfaces (
      id          TEXT PRIMARY KEY NOT NULL,
      resource_id TEXT,
      network_id  TEXT,
      addresses   TEXT              -- JSON array of IPv4/IPv6 strings
    )`,
    `CREATE TABLE networks (
      id           TEXT PRIMARY KEY NOT NULL,
      name         TEXT,
      network_type TEXT CHECK (network_type IN ('IPv4', 'IPv6', 'DualStack', 'Unknown')),
      cidr_v4      TEXT,            -- 'a.b.c.d/n'
      cidr_v6      TEXT,            -- 'x:y::/n'
      is_active    INTEGER NOT NULL CHECK (is_active IN (0, 1)),
      last_updated TEXT NOT NULL
    )`,
    `CREATE TABLE connections (
      id               TEXT PRIMARY KEY NOT NULL,   -- 'from_resource:from_interface--to_resource:to_interface'
      source_id        TEXT,
      source_interface TEXT,
      target_id        TEXT,
      target_interface TEXT,
      connection_type  TEXT,            -- 'Physical'
      is_active        INTEGER NOT NULL CHECK (is_active IN (0, 1)),
      last_updated     TEXT NOT NULL
    )`,
    `CREATE TABLE software_configurations (
      id            TEXT PRIMARY KEY NOT NULL,      -- configuration uuid
      resource_id   TEXT,
      software_id   TEXT,
      name          TEXT,
      version       TEXT,
      configuration TEXT,             -- JSON text of any JSON value
      dependencies  TEXT              -- JSON array of software ids
    )`,
    `CREATE TABLE policies (
      id    TEXT PRIMARY KEY NOT NULL,   -- policy uuid
      name  TEXT,
      scope TEXT,               -- 'global' | 'resource:<id>' | 'network:<id>'
      rules TEXT                -- JSON array of {rule_type, condition, action}
    )`,
    'CREATE VIEW active_compute_resources AS SELECT * FROM compute_resources WHERE is_active = 1',
    'CREATE VIEW active_networks AS SELECT * FROM networks WHERE is_active = 1',
    'CREATE VIEW active_connections AS SELECT * FROM connections WHERE is_active = 1',
    // A resource's connections, either end (the decommission saga's and the CLI's question).
    'CREATE INDEX connections_by_source ON connections (source_id)',
    'CREATE INDEX connections_by_target ON connections (target_id)',
    'CREATE INDEX interfaces_by_resource ON interfaces (resource_id)',
    'CREATE INDEX interfaces_by_network ON interfaces (network_id) WHERE network_id IS NOT NULL',
    'CREATE INDEX software_by_resource ON software_configurations (resource_id)',
  ],
};
