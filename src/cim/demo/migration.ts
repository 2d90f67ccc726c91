/** VMs move between hypervisors while they run. */
import { makeConnection } from '../infrastructure.js';
import { connect, sever } from './changes.js';
import type { Machine } from './model.js';
import { provisionHost } from './provisioning.js';
import { type Step, step } from './step.js';
import type { World } from './world.js';

/** A random VM to another hypervisor (a new hypervisor if there is nowhere to go). */
export function* migrateVm(w: World): Generator<Step> {
  const vm = w.vms.pick(w.rnd);
  const to = vm && w.hypervisors.pick(w.rnd, (h) => h !== vm.parent);
  if (!vm || !to) return yield* provisionHost(w, 'hypervisor');
  yield* migrate(w, vm, to);
}

/** Live migration: the link to the old hypervisor severed, one to the new made, the VM re-tagged. */
export function* migrate(w: World, vm: Machine, to: Machine): Generator<Step> {
  const from = vm.parent as Machine;
  if (vm.uplink) yield* sever(w, vm.uplink, `live migration to ${to.id}`);
  from.guests = from.guests.filter((g) => g !== vm.id);
  to.guests.push(vm.id);
  vm.parent = to;
  vm.uplink = makeConnection(vm.id, `${vm.id}-eth0`, to.id, `${to.id}-br0`);
  yield* connect(w, vm.uplink);
  vm.capabilities.metadata = { ...vm.capabilities.metadata, host: to.id };
  yield step('ResourceUpdated', {
    resource_id: vm.id,
    updates: { hostname: null, capabilities: null, metadata: { ...vm.capabilities.metadata } },
  });
}
