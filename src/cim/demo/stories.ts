/**
 * The order the world's stories are told in: a scripted first act that shows every event type
 * early, then a weighted mix, forever. Each story is a short run of steps that keeps the world true.
 */
import { addRack } from './addRack.js';
import { bootstrap } from './bootstrap.js';
import { decommissionHost, retireVm, returnHost } from './decommissions.js';
import { linkFault, repairLink } from './linkFaults.js';
import { migrateVm } from './migration.js';
import { newPolicy } from './newPolicy.js';
import { provisionContainer, provisionHost, provisionVm } from './provisioning.js';
import { reimageHost, updateResource } from './resourceUpdates.js';
import { configureSoftware, upgradeSoftware } from './software.js';
import type { Step } from './step.js';
import { offboardTenant, onboardTenant } from './tenants.js';
import { toggleLab } from './toggleLab.js';
import type { World } from './world.js';

/**
 * Yields each story as it is about to be told: a story's arguments are drawn when it is yielded,
 * its events as it is iterated (the order the scenario's bytes depend on).
 */
export function* stories(w: World): Generator<Iterable<Step>> {
  yield bootstrap(w);
  yield addRack(w);
  for (let i = 0; i < 3; i++) yield provisionHost(w, 'hypervisor');
  yield provisionHost(w, 'storage');
  yield provisionVm(w, 'web');
  yield provisionVm(w, 'db');
  yield provisionVm(w, 'api');
  yield provisionContainer(w);
  yield updateResource(w);
  yield newPolicy(w);
  yield onboardTenant(w);
  yield migrateVm(w);
  yield linkFault(w);
  yield upgradeSoftware(w);
  yield decommissionHost(w);
  yield returnHost(w);
  yield offboardTenant(w, 1);
  yield toggleLab(w);

  const mix: readonly [number, () => Iterable<Step>][] = [
    [10, () => provisionHost(w)],
    [18, () => provisionVm(w)],
    [12, () => provisionContainer(w)],
    [10, () => configureSoftware(w)],
    [6, () => upgradeSoftware(w)],
    [12, () => updateResource(w)],
    [5, () => newPolicy(w)],
    [4, () => linkFault(w)],
    [3, () => repairLink(w)],
    [4, () => migrateVm(w)],
    [3, () => onboardTenant(w)],
    [1, () => offboardTenant(w)],
    [2, () => decommissionHost(w)],
    [2, () => retireVm(w)],
    [2, () => returnHost(w)],
    [2, () => reimageHost(w)],
    [1, () => toggleLab(w)],
  ];
  const weight = mix.reduce((sum, [share]) => sum + share, 0);
  for (;;) {
    let r = w.rnd.int(weight);
    for (const [share, story] of mix) {
      if (r < share) {
        yield story();
        break;
      }
      r -= share;
    }
  }
}
