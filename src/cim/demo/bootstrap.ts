/** The first story: the global baseline policy, the shared networks and the two spine switches. */
import type { Cidr } from '../infrastructure.js';
import { nic } from './addresses.js';
import { DOMAIN } from './catalogue.js';
import { addInterfaces, applyPolicy, defineNetwork, policy, register, rule } from './changes.js';
import { type Net, newMachine } from './model.js';
import type { Step } from './step.js';
import { network, pad, type World } from './world.js';

const net = (id: string, name: string, v4: Cidr | null, v6: Cidr | null): Net => ({
  id,
  name,
  v4,
  v6,
  active: true,
  next: 0,
});

export function* bootstrap(w: World): Generator<Step> {
  yield* applyPolicy(
    w,
    policy(w, 'baseline-security', 'Global', [
      rule('Security', 'sshd.PasswordAuthentication == true', 'deny'),
      rule('Compliance', 'audit.retention_days < 365', 'alert'),
    ]),
  );
  yield defineNetwork(
    w,
    net('net-mgmt', 'management (out-of-band)', { address: '10.0.0.0', prefix_len: 16 }, null),
  );
  yield defineNetwork(
    w,
    net('net-storage', 'storage (Ceph public)', null, { address: 'fd00:20::', prefix_len: 48 }),
  );
  yield defineNetwork(w, net('net-pods', 'container pods', null, { address: 'fd00:42::', prefix_len: 48 }));
  yield defineNetwork(w, net('net-lab', 'lab (not yet addressed)', null, null));
  for (const n of [1, 2]) {
    const spine = newMachine({
      id: `spine-${pad(n, 2)}`,
      hostname: `spine-${pad(n, 2)}.${DOMAIN}`,
      type: 'Physical',
      system: 'x86_64-linux',
      role: 'spine',
      capabilities: {
        cpu_cores: 8,
        memory_mb: 32_768,
        storage_gb: 128,
        metadata: {
          role: 'spine',
          vendor: 'Arista',
          model: '7050CX3-32S',
          os: 'EOS 4.32.2F',
          rack: 'core',
        },
      },
      services: ['sshd', 'lldpd', 'bgpd'],
    });
    spine.nics.push(nic(spine, 'mgmt0', network(w, 'net-mgmt')));
    w.spines.push(spine);
    yield* register(w, spine);
    yield* addInterfaces(spine);
  }
}
