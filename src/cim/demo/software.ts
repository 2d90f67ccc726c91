/** Software is configured on what runs, and upgraded later. */
import { ROLE_PACKAGES } from './catalogue.js';
import { configure, softwareStep } from './changes.js';
import type { Machine } from './model.js';
import { provisionVm } from './provisioning.js';
import type { Step } from './step.js';
import type { World } from './world.js';

/** One of its role's packages configured on a live machine (a new VM if none has a role with any). */
export function* configureSoftware(w: World): Generator<Step> {
  const m = w.live.pick(w.rnd, (x) => ROLE_PACKAGES[x.role].length > 0);
  if (!m) return yield* provisionVm(w);
  yield* configure(w, m, w.rnd.pick(ROLE_PACKAGES[m.role]));
}

/** A new version of a configuration already there: the same configuration id, upserted. */
export function* upgradeSoftware(w: World): Generator<Step> {
  const s = w.software.pick(
    w.rnd,
    (r) => w.machines.get(r.resourceId)?.active === true && r.version < r.pkg.versions.length - 1,
  );
  if (!s) return yield* configureSoftware(w);
  s.version++;
  yield softwareStep(w, s, w.machines.get(s.resourceId) as Machine);
}
