/** Tenants come with a network, an isolation policy and a first VM, and go with all of them. */
import { TENANTS } from './catalogue.js';
import { applyPolicy, defineNetwork, policy, removeNetwork, rule } from './changes.js';
import { decommission } from './decommissions.js';
import type { Net } from './model.js';
import { provisionVm } from './provisioning.js';
import type { Step } from './step.js';
import { hex } from './uuidV7.js';
import { pad, type World } from './world.js';

export function* onboardTenant(w: World): Generator<Step> {
  const t = ++w.tenants;
  const round = Math.ceil(t / TENANTS.length);
  const tenant = `${TENANTS[(t - 1) % TENANTS.length]}${round > 1 ? `-${round}` : ''}`;
  const net: Net = {
    id: `net-tenant-${pad(t, 3)}`,
    name: `tenant ${tenant}`,
    v4: { address: `10.${128 + (Math.floor(t / 256) % 64)}.${t % 256}.0`, prefix_len: 24 },
    v6: w.rnd.chance(0.7) ? { address: `fd00:100:${hex(t % 65_536, 1)}::`, prefix_len: 64 } : null,
    active: true,
    next: 0,
    tenant,
    members: new Set(),
  };
  yield defineNetwork(w, net);
  yield* applyPolicy(
    w,
    policy(w, `tenant-isolation-${tenant}`, { Network: net.id }, [
      rule('Access', `src.tenant != "${tenant}"`, 'deny'),
      rule('Security', 'dst.port in [23, 445]', 'deny'),
    ]),
  );
  yield* provisionVm(w, 'web', net);
}

/** A tenant leaves: its VMs are retired, then its network removed. */
export function* offboardTenant(w: World, minimum = 2): Generator<Step> {
  const net = w.tenantNets.size >= minimum ? w.tenantNets.pick(w.rnd) : undefined;
  if (!net) return yield* onboardTenant(w);
  for (const vm of [...(net.members ?? [])]) {
    yield* decommission(w, vm, `tenant ${net.tenant} offboarded`);
  }
  yield removeNetwork(w, net, `tenant ${net.tenant} offboarded`);
}
