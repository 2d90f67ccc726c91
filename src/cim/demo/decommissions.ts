/**
 * Machines leave, as the decommission saga asks (guests first, then the machine, then its
 * connections severed), and hosts come back from repair.
 */
import { REMOVAL_REASONS } from './catalogue.js';
import { addInterfaces, connect, register, sever } from './changes.js';
import { migrate } from './migration.js';
import type { Machine } from './model.js';
import { provisionHost, provisionVm } from './provisioning.js';
import { type Step, step } from './step.js';
import { hex } from './uuidV7.js';
import { deactivate, type World } from './world.js';

/**
 * Removes a machine and what runs on it: guests first, then the machine, then its connections
 * (the connections the decommission saga asks to sever).
 */
export function* decommission(w: World, m: Machine, reason: string): Generator<Step> {
  for (const guestId of [...m.guests]) {
    const guest = w.machines.get(guestId);
    if (guest?.active)
      yield* decommission(w, guest, `${m.type === 'Physical' ? 'host' : 'parent'} ${m.id} decommissioned`);
  }
  m.guests = [];
  deactivate(w, m);
  if (m.parent) m.parent.guests = m.parent.guests.filter((g) => g !== m.id);
  yield step('ResourceRemoved', { resource_id: m.id, reason });
  for (const id of m.links) {
    const link = w.links.get(id);
    if (link?.active) yield* sever(w, link.c, `resource ${m.id} decommissioned`);
  }
}

/** A host leaves: its VMs are live-migrated away first where another hypervisor can take them. */
export function* decommissionHost(w: World): Generator<Step> {
  const host = w.hosts.size >= 4 ? w.hosts.pick(w.rnd) : undefined;
  if (!host) return yield* provisionHost(w);
  for (const guestId of [...host.guests]) {
    const vm = w.machines.get(guestId);
    const to = w.hypervisors.pick(w.rnd, (h) => h !== host);
    if (vm?.active && to) yield* migrate(w, vm, to);
  }
  yield* decommission(w, host, w.rnd.pick(REMOVAL_REASONS));
}

export function* retireVm(w: World): Generator<Step> {
  const vm = w.vms.size >= 6 ? w.vms.pick(w.rnd) : undefined;
  if (!vm) return yield* provisionVm(w);
  yield* decommission(w, vm, w.rnd.pick(['retired: service migrated', 'retired: load test finished']));
}

/** A host back from repair: registered again under its id, interfaces re-added, re-cabled. */
export function* returnHost(w: World): Generator<Step> {
  const host = w.removedHosts.pick(w.rnd);
  if (!host) return yield* provisionHost(w);
  host.capabilities = {
    ...host.capabilities,
    metadata: {
      ...host.capabilities.metadata,
      serial: `${String(host.capabilities.metadata.serial).slice(0, 2)}${hex(w.rnd.u32(), 8).toUpperCase()}`,
      refurbished: 'true',
    },
  };
  yield* register(w, host);
  yield* addInterfaces(host);
  if (host.uplink) yield* connect(w, host.uplink);
}
