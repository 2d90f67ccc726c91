/** Cables fail: some are re-seated at once, the rest wait for a repair. */
import { type Connection, connectionId } from '../infrastructure.js';
import { connect, sever } from './changes.js';
import type { Link } from './model.js';
import { provisionHost } from './provisioning.js';
import type { Step } from './step.js';
import type { World } from './world.js';

const bothEndsActive = (w: World, c: Connection) =>
  w.machines.get(c.from_resource)?.active === true && w.machines.get(c.to_resource)?.active === true;

export function* linkFault(w: World): Generator<Step> {
  const { rnd } = w;
  const id = w.activeLinks.pick(rnd, (l) => bothEndsActive(w, (w.links.get(l) as Link).c));
  if (id === undefined) return yield* provisionHost(w);
  const { c } = w.links.get(id) as Link;
  yield* sever(w, c, rnd.pick(['link down: loss of signal', 'link flapping: CRC errors', 'optic failure']));
  if (rnd.chance(0.5))
    yield* connect(w, c); // re-seated at once
  else w.broken.push(c);
}

/** A link cut earlier comes back, unless its machine has gone or moved on since. */
export function* repairLink(w: World): Generator<Step> {
  while (w.broken.length > 0) {
    const c = w.broken.shift() as Connection;
    const from = w.machines.get(c.from_resource);
    const current = from?.uplink === undefined || connectionId(from.uplink) === connectionId(c);
    if (w.links.get(connectionId(c))?.active === false && bothEndsActive(w, c) && current)
      return yield* connect(w, c);
  }
  yield* linkFault(w);
}
