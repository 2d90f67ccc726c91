/** The data centre grows a rack at a time. */
import { type Connection, makeConnection } from '../infrastructure.js';
import { linkLocal, nic } from './addresses.js';
import { DOMAIN } from './catalogue.js';
import { addInterfaces, interfaceAdded, register, track, wireNetwork } from './changes.js';
import { type Net, type Nic, newMachine, type Rack } from './model.js';
import { type Step, step } from './step.js';
import { hex } from './uuidV7.js';
import { network, newId, pad, type World } from './world.js';

/** A rack: its switch, its network and its uplinks to both spines, defined as one topology. */
export function* addRack(w: World): Generator<Step> {
  const k = w.racks.length + 1;
  const name = `r${pad(k, 2)}`;
  const rackNet: Net = {
    id: `net-rack-${name}`,
    name: `rack ${name} (production, dual stack)`,
    v4: { address: `10.${64 + (Math.floor(k / 256) % 64)}.${k % 256}.0`, prefix_len: 24 },
    v6: { address: `fd00:64:${hex(k % 65_536, 1)}::`, prefix_len: 64 },
    active: true,
    next: 0,
  };
  w.networks.set(rackNet.id, rackNet);
  const tor = newMachine({
    id: `tor-${name}`,
    hostname: `tor-${name}.${DOMAIN}`,
    type: 'Physical',
    system: 'x86_64-linux',
    role: 'tor',
    capabilities: {
      cpu_cores: 4,
      memory_mb: 16_384,
      storage_gb: 64,
      metadata: { role: 'tor', vendor: 'Edgecore', model: 'AS7726-32X', os: 'SONiC 202405', rack: name },
    },
    services: ['sshd', 'lldpd', 'bgpd'],
  });
  tor.nics.push(nic(tor, 'mgmt0', network(w, 'net-mgmt')));
  const spinePorts: Nic[] = [];
  const uplinks: Connection[] = [];
  for (const [i, spine] of w.spines.entries()) {
    // BGP unnumbered: the fabric links carry only IPv6 link-local addresses.
    const torPort = nic(tor, `swp${49 + i}`, null, [linkLocal(w.rnd)]);
    const spinePort = nic(spine, `swp${k}`, null, [linkLocal(w.rnd)]);
    tor.nics.push(torPort);
    spine.nics.push(spinePort);
    spinePorts.push(spinePort);
    uplinks.push(makeConnection(tor.id, torPort.id, spine.id, spinePort.id));
  }
  const rack: Rack = { name, tor, network: rackNet, ports: 0 };
  w.racks.push(rack);
  yield* register(w, tor);
  yield* addInterfaces(tor);
  for (const [i, spine] of w.spines.entries()) yield interfaceAdded(spine, spinePorts[i] as Nic);
  // The first rack also brings the production network that every rack routes to.
  const defined = [rackNet];
  if (!w.networks.has('net-prod')) {
    const prod: Net = {
      id: 'net-prod',
      name: 'production (anycast services)',
      v4: { address: '10.16.0.0', prefix_len: 12 },
      v6: { address: 'fd00:10::', prefix_len: 48 },
      active: true,
      next: 0,
    };
    w.networks.set(prod.id, prod);
    defined.unshift(prod);
  }
  for (const c of uplinks) track(w, c);
  yield step('NetworkTopologyDefined', {
    topology_id: newId(w),
    networks: defined.map(wireNetwork),
    connections: uplinks,
  });
}
