/**
 * The building blocks of every story: each records one change in the world and returns (or
 * yields) the event that tells it.
 */
import { type Connection, connectionId, type PolicyScope, type Rule } from '../infrastructure.js';
import type { Machine, Net, Nic, Package, PolicyRecord, SoftwareRecord } from './model.js';
import { type Step, step } from './step.js';
import { activate, newId, type World } from './world.js';

const NIX_BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';

export const wireNetwork = (n: Net) => ({ id: n.id, name: n.name, cidr_v4: n.v4, cidr_v6: n.v6 });

export function defineNetwork(w: World, net: Net): Step {
  w.networks.set(net.id, net);
  net.active = true;
  if (net.tenant !== undefined) w.tenantNets.add(net);
  return step('NetworkDefined', { network: wireNetwork(net) });
}

export function removeNetwork(w: World, net: Net, reason: string): Step {
  net.active = false;
  w.tenantNets.delete(net);
  return step('NetworkRemoved', { network_id: net.id, reason });
}

export function* register(w: World, m: Machine): Generator<Step> {
  w.machines.set(m.id, m);
  activate(w, m);
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

export const interfaceAdded = (m: Machine, n: Nic): Step =>
  step('InterfaceAdded', {
    interface: { id: n.id, resource_id: m.id, network_id: n.network, addresses: [...n.addresses] },
  });

export function* addInterfaces(m: Machine): Generator<Step> {
  for (const n of m.nics) yield interfaceAdded(m, n);
}

/** Records a connection as active (the event that says so is the caller's). */
export function track(w: World, c: Connection): void {
  const id = connectionId(c);
  w.links.set(id, { c, active: true });
  w.activeLinks.add(id);
  w.machines.get(c.from_resource)?.links.add(id);
  w.machines.get(c.to_resource)?.links.add(id);
}

export function* connect(w: World, c: Connection): Generator<Step> {
  track(w, c);
  yield step('ResourcesConnected', { connection: c });
}

export function* sever(w: World, c: Connection, reason: string): Generator<Step> {
  const id = connectionId(c);
  const link = w.links.get(id);
  if (!link?.active) return;
  link.active = false;
  w.activeLinks.delete(id);
  yield step('ConnectionSevered', { connection: c, reason });
}

export function* configure(w: World, m: Machine, p: Package): Generator<Step> {
  const record: SoftwareRecord = { id: newId(w), resourceId: m.id, pkg: p, version: 0 };
  w.software.add(record);
  yield softwareStep(w, record, m);
}

/** The configuration at its current version (configured anew or upgraded: the same id either way). */
export function softwareStep(w: World, r: SoftwareRecord, m: Machine): Step {
  const version = r.pkg.versions[Math.min(r.version, r.pkg.versions.length - 1)] as string;
  const artifact = `${r.pkg.name.replace(/^.*\//, '')}-${version}`;
  const hash = Array.from({ length: 32 }, () => NIX_BASE32[w.rnd.int(32)]).join('');
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

export function* applyPolicy(w: World, p: PolicyRecord): Generator<Step> {
  w.policies.add(p);
  yield step('PolicyApplied', { policy: { id: p.id, name: p.name, scope: p.scope, rules: [...p.rules] } });
}

export const policy = (w: World, name: string, scope: PolicyScope, rules: Rule[]): PolicyRecord => ({
  id: newId(w),
  name,
  scope,
  rules,
});

export const rule = (rule_type: Rule['rule_type'], condition: string, action: string): Rule => ({
  rule_type,
  condition,
  action,
});
