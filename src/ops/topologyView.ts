/**
 * What `prosa topology` shows: the topology read model (docs/schema.md#topology-read-model) summed up from SQLite, and drawn
 * as a table, JSON, a Mermaid graph or a Graphviz graph.
 *
 * The view is read in one SQLite read transaction (a consistent snapshot while the worker writes):
 * how many rows each table has and how many are active, the active compute resources, networks and
 * connections, and which active resources have an interface on which active network.
 *
 * @example
 * const db = openDatabase(config.sqlitePath, { readonly: true });
 * process.stdout.write(formatTopology(readTopologyView(db), 'mermaid'));
 */
import { ProsaError } from '../errors.js';
import type { SqliteDatabase } from '../store/database.js';

/** A table's row count and, where rows can be inactive, how many are active. */
export interface ActiveCount {
  total: number;
  active: number;
}

export interface TopologyCounts {
  computeResources: ActiveCount;
  interfaces: { total: number };
  networks: ActiveCount;
  connections: ActiveCount;
  softwareConfigurations: { total: number };
  policies: { total: number };
}

export interface TopologyResource {
  id: string;
  hostname: string | null;
  /** "Physical", "VirtualMachine" or "Container". */
  type: string | null;
  /** Nix system, e.g. "x86_64-linux". */
  system: string | null;
}

export interface TopologyNetwork {
  id: string;
  name: string | null;
  /** "IPv4", "IPv6", "DualStack" or "Unknown". */
  type: string | null;
  /** "a.b.c.d/n" or null. */
  cidrV4: string | null;
  cidrV6: string | null;
}

export interface TopologyConnection {
  /** `from_resource:from_interface--to_resource:to_interface`. */
  id: string;
  source: string;
  sourceInterface: string;
  target: string;
  targetInterface: string;
}

/** An interface of an active resource on an active network. */
export interface TopologyAttachment {
  resource: string;
  interface: string;
  network: string;
  addresses: string[];
}

/** The topology at a glance; every list is ordered by id (resource, then interface, for attachments). */
export interface TopologyView {
  counts: TopologyCounts;
  resources: TopologyResource[];
  networks: TopologyNetwork[];
  connections: TopologyConnection[];
  attachments: TopologyAttachment[];
}

export const topologyFormats = ['table', 'json', 'mermaid', 'dot'] as const;
export type TopologyFormat = (typeof topologyFormats)[number];

const REQUIRED = [
  'compute_resources',
  'interfaces',
  'networks',
  'connections',
  'software_configurations',
  'policies',
  'active_compute_resources',
  'active_networks',
  'active_connections',
] as const;

/**
 * Reads the view from a database holding the topology read model (the worker's SQLite file; a
 * read-only handle is enough).
 *
 * @throws ProsaError `PROSA_SQLITE` if the database has no topology read model yet
 */
export function readTopologyView(db: SqliteDatabase): TopologyView {
  const present = new Set(
    db.prepare(`SELECT name FROM sqlite_master WHERE type IN ('table', 'view')`).pluck().all() as string[],
  );
  const missing = REQUIRED.filter((name) => !present.has(name));
  if (missing.length > 0) {
    throw new ProsaError(
      'PROSA_SQLITE',
      `${db.name} holds no topology read model (missing ${missing.join(', ')}); run the worker with the topology projection first (\`npm start\`, or \`prosa run\`), or point PROSA_DB at its database`,
    );
  }
  return db.transaction(() => {
    const active = (table: string): ActiveCount =>
      db
        .prepare(`SELECT count(*) AS total, coalesce(sum(is_active), 0) AS active FROM ${table}`)
        .get() as ActiveCount;
    const total = (table: string) => ({
      total: db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number,
    });
    const counts: TopologyCounts = {
      computeResources: active('compute_resources'),
      interfaces: total('interfaces'),
      networks: active('networks'),
      connections: active('connections'),
      softwareConfigurations: total('software_configurations'),
      policies: total('policies'),
    };
    const resources = db
      .prepare('SELECT id, hostname, resource_type AS type, system FROM active_compute_resources ORDER BY id')
      .all() as TopologyResource[];
    const networks = db
      .prepare(
        'SELECT id, name, network_type AS type, cidr_v4 AS cidrV4, cidr_v6 AS cidrV6 FROM active_networks ORDER BY id',
      )
      .all() as TopologyNetwork[];
    const connections = db
      .prepare(
        `SELECT id, source_id AS source, source_interface AS sourceInterface,
                target_id AS target, target_interface AS targetInterface
           FROM active_connections ORDER BY id`,
      )
      .all() as TopologyConnection[];
    const attachments = (
      db
        .prepare(
          `SELECT i.resource_id AS resource, i.id AS interface, i.network_id AS network, i.addresses
             FROM interfaces i
             JOIN active_compute_resources r ON r.id = i.resource_id
             JOIN active_networks n ON n.id = i.network_id
            ORDER BY i.resource_id, i.id`,
        )
        .all() as (Omit<TopologyAttachment, 'addresses'> & { addresses: string | null })[]
    ).map((a) => ({ ...a, addresses: parseAddresses(a.addresses) }));
    return { counts, resources, networks, connections, attachments };
  })();
}

/** What the model still holds of removed resources, networks and connections (is_active = 0). */
export interface RemovedTopology {
  resources: (TopologyResource & { reason: string | null })[];
  networks: TopologyNetwork[];
  connections: TopologyConnection[];
}

/** The inactive rows beside readTopologyView's active ones (the console draws both); at most `limit` of each. */
export function readRemovedTopology(db: SqliteDatabase, limit = 2_000): RemovedTopology {
  return db.transaction(() => ({
    resources: db
      .prepare(
        `SELECT id, hostname, resource_type AS type, system, removed_reason AS reason
           FROM compute_resources WHERE is_active = 0 ORDER BY id LIMIT ?`,
      )
      .all(limit) as RemovedTopology['resources'],
    networks: db
      .prepare(
        `SELECT id, name, network_type AS type, cidr_v4 AS cidrV4, cidr_v6 AS cidrV6
           FROM networks WHERE is_active = 0 ORDER BY id LIMIT ?`,
      )
      .all(limit) as TopologyNetwork[],
    connections: db
      .prepare(
        `SELECT id, source_id AS source, source_interface AS sourceInterface,
                target_id AS target, target_interface AS targetInterface
           FROM connections WHERE is_active = 0 ORDER BY id LIMIT ?`,
      )
      .all(limit) as TopologyConnection[],
  }))();
}

function parseAddresses(text: string | null): string[] {
  if (text === null) return [];
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}

/**
 * The view as text, ending in a newline.
 *
 * - `table`: the counts, then one aligned section each for the active resources, networks and
 *   connections (control characters shown escaped, so a hostname cannot break a row);
 * - `json`: the view itself, indented;
 * - `mermaid`: a `graph LR` flowchart: resources are boxes labelled hostname and type, active
 *   connections are solid edges labelled with their interfaces, networks are hexagons joined by
 *   dotted edges to the resources with an interface on them; a connection's end that is not an
 *   active resource is drawn dashed as "(not active)". Node ids are generated (`r0`, `n0`, `u0`),
 *   so no id can clash with Mermaid's syntax; labels are quoted with entity codes for `"#&<>|` and
 *   backticks;
 * - `dot`: the same graph for Graphviz (`dot -Tsvg`), ids quoted as `"resource:<id>"` and
 *   `"network:<id>"` with `\` and `"` escaped.
 */
export function formatTopology(view: TopologyView, format: TopologyFormat): string {
  switch (format) {
    case 'table':
      return formatTable(view);
    case 'json':
      return `${JSON.stringify(view, null, 2)}\n`;
    case 'mermaid':
      return formatMermaid(view);
    case 'dot':
      return formatDot(view);
    default:
      throw new RangeError(
        `unknown topology format ${JSON.stringify(format)}; expected one of ${topologyFormats.join(', ')}`,
      );
  }
}

// ---------------------------------------------------------------------------------------------
// table
// ---------------------------------------------------------------------------------------------

// C0 and C1 controls, DEL, line/paragraph separators and bidi overrides would break or disguise a row.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what it must find
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const printable = (s: string): string =>
  s.replace(UNPRINTABLE, (c) => `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}`);

/** Terminal columns a string takes: wide (CJK, emoji) characters 2, combining marks 0. */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if ((c >= 0x300 && c <= 0x36f) || c === 0x200d || (c >= 0xfe00 && c <= 0xfe0f)) continue;
    const wide =
      (c >= 0x1100 && c <= 0x115f) ||
      (c >= 0x2e80 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) ||
      (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) ||
      (c >= 0x1f300 && c <= 0x1faff) ||
      (c >= 0x20000 && c <= 0x3fffd);
    w += wide ? 2 : 1;
  }
  return w;
}

const cell = (v: string | null): string => (v === null || v === '' ? '-' : printable(v));

function section(title: string, head: string[], rows: string[][]): string {
  if (rows.length === 0) return `${title} (0)\n  (none)\n`;
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const line = (r: string[]) =>
    `  ${r
      .map((c, i) => c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - displayWidth(c))))
      .join('  ')
      .trimEnd()}`;
  return `${title} (${rows.length})\n${[head, ...rows].map(line).join('\n')}\n`;
}

function formatTable(view: TopologyView): string {
  const c = view.counts;
  const summary: [string, string][] = [
    ['compute resources', `${c.computeResources.active} active of ${c.computeResources.total}`],
    ['interfaces', String(c.interfaces.total)],
    ['networks', `${c.networks.active} active of ${c.networks.total}`],
    ['connections', `${c.connections.active} active of ${c.connections.total}`],
    ['software configurations', String(c.softwareConfigurations.total)],
    ['policies', String(c.policies.total)],
  ];
  const labelWidth = Math.max(...summary.map(([k]) => k.length));
  return [
    `Topology\n${summary.map(([k, v]) => `  ${k.padEnd(labelWidth)}  ${v}`).join('\n')}\n`,
    section(
      'Active compute resources',
      ['ID', 'HOSTNAME', 'TYPE', 'SYSTEM'],
      view.resources.map((r) => [cell(r.id), cell(r.hostname), cell(r.type), cell(r.system)]),
    ),
    section(
      'Active networks',
      ['ID', 'NAME', 'TYPE', 'IPV4', 'IPV6'],
      view.networks.map((n) => [cell(n.id), cell(n.name), cell(n.type), cell(n.cidrV4), cell(n.cidrV6)]),
    ),
    section(
      'Active connections',
      ['FROM', 'INTERFACE', 'TO', 'INTERFACE'],
      view.connections.map((k) => [
        cell(k.source),
        cell(k.sourceInterface),
        cell(k.target),
        cell(k.targetInterface),
      ]),
    ),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// graphs
// ---------------------------------------------------------------------------------------------

/** What both graph formats draw: nodes with label lines, and edges between them. */
interface Graph {
  resources: { id: string; lines: string[]; active: boolean }[];
  networks: { id: string; lines: string[] }[];
  links: { from: string; to: string; label: string }[];
  /** [resource id, network id], once per pair. */
  attachments: [string, string][];
}

const networkLines = (n: TopologyNetwork): string[] => [
  n.name ?? n.id,
  [n.type ?? 'Unknown', [n.cidrV4, n.cidrV6].filter((x) => x !== null).join(', ')]
    .filter((x) => x !== '')
    .join(' '),
];

function toGraph(view: TopologyView): Graph {
  // Maps, never plain objects: ids are user data ("__proto__" is a fine resource id).
  const resources = new Map<string, Graph['resources'][number]>();
  for (const r of view.resources) {
    resources.set(r.id, { id: r.id, lines: [r.hostname ?? r.id, r.type ?? 'unknown type'], active: true });
  }
  const ends: Graph['resources'] = [];
  const endpoint = (id: string) => {
    if (resources.has(id)) return;
    const node = { id, lines: [id, '(not active)'], active: false };
    resources.set(id, node);
    ends.push(node);
  };
  for (const c of view.connections) {
    endpoint(c.source);
    endpoint(c.target);
  }
  const seen = new Set<string>();
  const attachments: [string, string][] = [];
  for (const a of view.attachments) {
    const key = JSON.stringify([a.resource, a.network]);
    if (!seen.has(key)) {
      seen.add(key);
      attachments.push([a.resource, a.network]);
    }
  }
  return {
    resources: [...view.resources.map((r) => resources.get(r.id) as Graph['resources'][number]), ...ends],
    networks: view.networks.map((n) => ({ id: n.id, lines: networkLines(n) })),
    links: view.connections.map((c) => ({
      from: c.source,
      to: c.target,
      label: `${c.sourceInterface} ↔ ${c.targetInterface}`,
    })),
    attachments,
  };
}

// Mermaid: entity codes inside quoted labels. `#` first, since the codes themselves start with it.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters become spaces
const MERMAID_CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/g;
const mermaidText = (s: string): string =>
  s
    .replace(/#/g, '#35;')
    .replace(/"/g, '#quot;')
    .replace(/&/g, '#amp;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/\|/g, '#124;')
    .replace(/`/g, '#96;')
    .replace(MERMAID_CONTROL, ' ');
const mermaidLabel = (lines: string[]): string => `"${lines.map(mermaidText).join('<br/>')}"`;

function formatMermaid(view: TopologyView): string {
  const g = toGraph(view);
  const ids = new Map<string, string>();
  const out = ['graph LR'];
  let inactive = 0;
  for (const r of g.resources) {
    const id = r.active ? `r${ids.size}` : `u${inactive++}`;
    ids.set(r.id, id);
    out.push(`  ${id}[${mermaidLabel(r.lines)}]`);
  }
  const nets = new Map<string, string>();
  for (const n of g.networks) {
    const id = `n${nets.size}`;
    nets.set(n.id, id);
    out.push(`  ${id}{{${mermaidLabel(n.lines)}}}`);
  }
  for (const l of g.links) {
    out.push(`  ${ids.get(l.from)} ---|${mermaidLabel([l.label])}| ${ids.get(l.to)}`);
  }
  for (const [resource, network] of g.attachments) {
    out.push(`  ${ids.get(resource)} -.- ${nets.get(network)}`);
  }
  if (inactive > 0) {
    out.push('  classDef inactive stroke-dasharray: 4 4,color:#888');
    out.push(`  class ${Array.from({ length: inactive }, (_, i) => `u${i}`).join(',')} inactive`);
  }
  return `${out.join('\n')}\n`;
}

// Graphviz: a double-quoted string where `\` and `"` are escaped; in labels `\n` is our line break.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters become spaces
const DOT_CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/g;
const dotText = (s: string): string =>
  s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(DOT_CONTROL, ' ');
const dotId = (kind: 'resource' | 'network', id: string): string => `"${dotText(`${kind}:${id}`)}"`;
const dotLabel = (lines: string[]): string => `"${lines.map(dotText).join('\\n')}"`;

function formatDot(view: TopologyView): string {
  const g = toGraph(view);
  const out = ['graph topology {', '  rankdir=LR;', '  node [shape=box];'];
  for (const r of g.resources) {
    out.push(`  ${dotId('resource', r.id)} [label=${dotLabel(r.lines)}${r.active ? '' : ', style=dashed'}];`);
  }
  for (const n of g.networks) {
    out.push(`  ${dotId('network', n.id)} [shape=hexagon, label=${dotLabel(n.lines)}];`);
  }
  for (const l of g.links) {
    out.push(`  ${dotId('resource', l.from)} -- ${dotId('resource', l.to)} [label=${dotLabel([l.label])}];`);
  }
  for (const [resource, network] of g.attachments) {
    out.push(`  ${dotId('resource', resource)} -- ${dotId('network', network)} [style=dotted];`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
