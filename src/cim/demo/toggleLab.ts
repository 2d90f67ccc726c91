import { defineNetwork, removeNetwork } from './changes.js';
import type { Step } from './step.js';
import { network, type World } from './world.js';

/** The lab network closes and reopens (NetworkDefined again makes it active again). */
export function* toggleLab(w: World): Generator<Step> {
  const lab = network(w, 'net-lab');
  yield lab.active ? removeNetwork(w, lab, 'lab closed for re-cabling') : defineNetwork(w, lab);
}
