/** The estate fills: hosts racked and cabled, VMs on the hypervisors, containers on the VMs. */
import { makeConnection } from '../infrastructure.js';
import { addRack } from './addRack.js';
import { nic } from './addresses.js';
import { APPS, DOMAIN, HARDWARE, PORTS_PER_RACK, ROLE_PACKAGES, VM_ROLES } from './catalogue.js';
import { addInterfaces, configure, connect, interfaceAdded, register } from './changes.js';
import { type Machine, type Net, newMachine, type Rack, type Role } from './model.js';
import type { Step } from './step.js';
import { hex } from './uuidV7.js';
import { count, network, pad, type World } from './world.js';

/** A physical host in the newest rack (a new rack if it is full), cabled to its switch, software on it. */
export function* provisionHost(
  w: World,
  role: Role = w.rnd.chance(0.8) ? 'hypervisor' : 'storage',
): Generator<Step> {
  const { rnd } = w;
  let rack = w.racks.at(-1);
  if (!rack || rack.ports >= PORTS_PER_RACK) {
    yield* addRack(w);
    rack = w.racks.at(-1) as Rack;
  }
  const slot = ++rack.ports;
  const hw = rnd.pick(HARDWARE);
  const id = `${rack.name}-h${pad(slot, 2)}`;
  const host = newMachine({
    id,
    hostname: `${id}.${DOMAIN}`,
    type: 'Physical',
    system: hw.system,
    role,
    capabilities: {
      cpu_cores: rnd.pick(hw.cpu),
      memory_mb: rnd.pick([262_144, 524_288, 1_048_576]),
      storage_gb: role === 'storage' ? rnd.pick([61_440, 92_160]) : rnd.pick([1_920, 3_840, 7_680]),
      metadata: {
        role,
        rack: rack.name,
        vendor: hw.vendor,
        model: hw.model,
        serial: `${hw.vendor.slice(0, 2).toUpperCase()}${hex(rnd.u32(), 8).toUpperCase()}`,
        bios: rnd.pick(['2.1.3', '2.2.0', '2.3.1']),
      },
    },
    services:
      role === 'hypervisor' ? ['sshd', 'libvirtd', 'node-exporter'] : ['sshd', 'ceph-osd', 'node-exporter'],
  });
  host.nics.push(
    nic(host, 'eth0', rack.network),
    nic(host, 'eth1', network(w, 'net-storage')),
    nic(host, 'bmc0', network(w, 'net-mgmt')),
  );
  // A few hosts also have a port on the lab network, which has no addressing yet.
  if (rnd.chance(0.1)) host.nics.push(nic(host, 'eth2', network(w, 'net-lab')));
  if (role === 'hypervisor') host.nics.push(nic(host, 'br0', null));
  yield* register(w, host);
  yield* addInterfaces(host);
  const port = nic(rack.tor, `swp${slot}`, null, []);
  rack.tor.nics.push(port);
  yield interfaceAdded(rack.tor, port);
  host.uplink = makeConnection(host.id, `${host.id}-eth0`, rack.tor.id, port.id);
  yield* connect(w, host.uplink);
  for (const p of ROLE_PACKAGES[role].slice(0, rnd.between(1, 2))) yield* configure(w, host, p);
}

/** A VM on a hypervisor (a new host if there is none), on `on`, a tenant's network or production. */
export function* provisionVm(w: World, role: Role = w.rnd.pick(VM_ROLES), on?: Net): Generator<Step> {
  const { rnd } = w;
  if (w.hypervisors.size === 0) yield* provisionHost(w, 'hypervisor');
  const hv = w.hypervisors.pick(rnd) as Machine;
  const n = count(w, role);
  const id = `vm-${role}-${pad(n, 4)}`;
  const net = on ?? (rnd.chance(0.3) ? w.tenantNets.pick(rnd) : undefined) ?? network(w, 'net-prod');
  const vm = newMachine({
    id,
    hostname: `${role}-${pad(n, 4)}.${net.tenant ?? 'prod'}.${DOMAIN}`,
    type: 'VirtualMachine',
    system: hv.system,
    role,
    capabilities: {
      cpu_cores: rnd.pick([2, 4, 8, 16]),
      memory_mb: rnd.pick([4_096, 8_192, 16_384, 32_768, 65_536]),
      storage_gb: rnd.pick([40, 80, 200, 500]),
      metadata: {
        role,
        host: hv.id,
        hypervisor: 'qemu-kvm',
        image: rnd.pick(['nixos-24.11', 'nixos-24.11', 'nixos-25.05']),
        ...(net.tenant ? { tenant: net.tenant } : {}),
      },
    },
    services: ['sshd'],
    parent: hv,
  });
  vm.nics.push(nic(vm, 'eth0', net));
  net.members?.add(vm);
  yield* register(w, vm);
  yield* addInterfaces(vm);
  hv.guests.push(vm.id);
  vm.uplink = makeConnection(vm.id, `${vm.id}-eth0`, hv.id, `${hv.id}-br0`);
  yield* connect(w, vm.uplink);
  const pkgs = ROLE_PACKAGES[role];
  if (pkgs.length > 0) yield* configure(w, vm, rnd.pick(pkgs));
}

/** An application container on an API or CI VM (a new API VM if there is none). */
export function* provisionContainer(w: World): Generator<Step> {
  const { rnd } = w;
  const vm = w.containerParents.pick(rnd);
  if (!vm) return yield* provisionVm(w, 'api');
  const app = rnd.pick(APPS);
  const short = app.name.replace(/^.*\//, '');
  const n = count(w, `ct-${short}`);
  const ct = newMachine({
    id: `ct-${short}-${pad(n, 4)}`,
    hostname: `${short}-${hex(rnd.u32(), 8).slice(0, 5)}`,
    type: 'Container',
    system: vm.system,
    role: 'app',
    capabilities: {
      cpu_cores: rnd.pick([1, 2, 4]),
      memory_mb: rnd.pick([512, 1_024, 2_048]),
      storage_gb: null, // ephemeral
      metadata: {
        runtime: 'containerd',
        image: `${app.name}:${app.versions[0]}`,
        parent: vm.id,
        namespace: short,
      },
    },
    services: [],
    parent: vm,
  });
  ct.nics.push(nic(ct, 'eth0', network(w, 'net-pods')));
  yield* register(w, ct);
  yield* addInterfaces(ct);
  vm.guests.push(ct.id);
  yield* configure(w, ct, app);
}
