/**
 * The world the story keeps, so that every event refers to things that exist. Random choices come
 * from pools kept up to date, so a story costs the same at any estate size.
 */
import type { Connection } from '../infrastructure.js';
import { CONTAINER_PARENTS } from './catalogue.js';
import type { Link, Machine, Net, PolicyRecord, Rack, SoftwareRecord } from './model.js';
import { Pool } from './pool.js';
import type { Random } from './seededRandom.js';
import { uuidV7 } from './uuidV7.js';

export interface World {
  readonly rnd: Random;
  /** The virtual clock: the time of the event being told. */
  readonly nowMs: () => number;
  readonly networks: Map<string, Net>;
  readonly machines: Map<string, Machine>;
  readonly links: Map<string, Link>;
  readonly racks: Rack[];
  readonly spines: Machine[];
  /** How many of each kind have been named so far (VMs per role, containers per app). */
  readonly counters: Map<string, number>;
  /** Tenants onboarded so far. */
  tenants: number;

  // Pools of what stories choose from.
  readonly live: Pool<Machine>;
  /** Active hypervisors and storage hosts. */
  readonly hosts: Pool<Machine>;
  readonly hypervisors: Pool<Machine>;
  readonly vms: Pool<Machine>;
  readonly containerParents: Pool<Machine>;
  readonly removedHosts: Pool<Machine>;
  readonly activeLinks: Pool<string>;
  readonly tenantNets: Pool<Net>;
  readonly software: Pool<SoftwareRecord>;
  readonly policies: Pool<PolicyRecord>;
  /** Links cut by a fault, waiting for a repair. */
  readonly broken: Connection[];
}

/** An empty world: the stories build it (it draws nothing from `rnd` itself). */
export function createWorld(rnd: Random, nowMs: () => number): World {
  return {
    rnd,
    nowMs,
    networks: new Map(),
    machines: new Map(),
    links: new Map(),
    racks: [],
    spines: [],
    counters: new Map(),
    tenants: 0,
    live: new Pool(),
    hosts: new Pool(),
    hypervisors: new Pool(),
    vms: new Pool(),
    containerParents: new Pool(),
    removedHosts: new Pool(),
    activeLinks: new Pool(),
    tenantNets: new Pool(),
    software: new Pool(),
    policies: new Pool(),
    broken: [],
  };
}

/** A fresh id at the world's current time. */
export const newId = (w: World): string => uuidV7(w.nowMs(), w.rnd);

/** The next number for `name` (1, 2, ...). */
export const count = (w: World, name: string): number => {
  const n = (w.counters.get(name) ?? 0) + 1;
  w.counters.set(name, n);
  return n;
};

export const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** A network the world has defined (the caller knows it exists). */
export const network = (w: World, id: string): Net => w.networks.get(id) as Net;

/** Puts a machine into the pools its kind is chosen from. */
export function activate(w: World, m: Machine): void {
  m.active = true;
  w.live.add(m);
  w.removedHosts.delete(m);
  if (m.role === 'hypervisor' || m.role === 'storage') w.hosts.add(m);
  if (m.role === 'hypervisor') w.hypervisors.add(m);
  if (m.type === 'VirtualMachine') w.vms.add(m);
  if (m.type === 'VirtualMachine' && CONTAINER_PARENTS.includes(m.role)) w.containerParents.add(m);
}

/** Takes a removed machine out of the pools; a host waits among the removed, for a repair. */
export function deactivate(w: World, m: Machine): void {
  m.active = false;
  for (const pool of [w.live, w.hosts, w.hypervisors, w.vms, w.containerParents]) pool.delete(m);
  for (const n of m.nics) if (n.network !== null) w.networks.get(n.network)?.members?.delete(m);
  if (m.role === 'hypervisor' || m.role === 'storage') w.removedHosts.add(m);
}
