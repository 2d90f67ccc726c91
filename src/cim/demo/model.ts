/** What the demo world is made of: the things its stories create, change and remove. */
import type {
  Cidr,
  ComputeType,
  Connection,
  PolicyScope,
  ResourceCapabilities,
  Rule,
} from '../infrastructure.js';

export interface Net {
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

export interface Nic {
  id: string;
  network: string | null;
  addresses: string[];
}

export type Role =
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

export interface Machine {
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

export interface Rack {
  name: string;
  tor: Machine;
  network: Net;
  /** Switch ports handed out to hosts (never reused: a returning host keeps its port). */
  ports: number;
}

export interface Package {
  name: string;
  versions: readonly string[];
  dependencies: readonly string[];
  /** Whether it comes from nixpkgs (has a derivation) or from an image registry. */
  nix: boolean;
  config(m: Machine, version: string): unknown;
}

export interface SoftwareRecord {
  id: string;
  resourceId: string;
  pkg: Package;
  version: number;
}

export interface PolicyRecord {
  id: string;
  name: string;
  scope: PolicyScope;
  rules: Rule[];
}

/** A connection the world knows, and whether it is up. */
export interface Link {
  c: Connection;
  active: boolean;
}

/** A machine before it is registered: no interfaces, guests or connections yet, not active. */
export const newMachine = (
  m: Omit<Machine, 'nics' | 'guests' | 'active' | 'links'> & Partial<Pick<Machine, 'guests'>>,
): Machine => ({ guests: [], ...m, nics: [], active: false, links: new Set() });
