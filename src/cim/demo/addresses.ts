/** Interfaces and their addresses: inside their network's CIDRs, or link-local on the fabric. */
import type { Net, Nic } from './model.js';
import type { Random } from './seededRandom.js';
import { hex } from './uuidV7.js';

const v4Text = (n: number): string =>
  [Math.floor(n / 16_777_216) % 256, Math.floor(n / 65_536) % 256, Math.floor(n / 256) % 256, n % 256].join(
    '.',
  );
const v4Number = (a: string): number => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);

/** The next addresses on a network: one per family it has, inside its CIDRs (wrapping if full). */
function allocate(net: Net): string[] {
  const i = net.next++;
  const out: string[] = [];
  if (net.v4) {
    const size = 2 ** (32 - net.v4.prefix_len) - 3; // not the network, gateway or broadcast address
    out.push(v4Text(v4Number(net.v4.address) + 2 + (i % Math.max(1, size))));
  }
  if (net.v6) {
    // Every demo IPv6 prefix is written ending in `::`; its hosts fit in the last two groups.
    const h = (i % 0xfffffff) + 16;
    const tail = h > 0xffff ? `${hex(Math.floor(h / 65_536), 1)}:${hex(h % 65_536, 1)}` : hex(h, 1);
    out.push(`${net.v6.address}${tail}`);
  }
  return out;
}

export const linkLocal = (rnd: Random): string =>
  `fe80::${hex(rnd.u32() & 0xffff, 1)}:${hex(rnd.u32() & 0xffff, 1)}`;

/** Interface `name` of a machine, on `net` with the next addresses there unless `addresses` are given. */
export const nic = (m: { id: string }, name: string, net: Net | null, addresses?: string[]): Nic => ({
  id: `${m.id}-${name}`,
  network: net?.id ?? null,
  addresses: addresses ?? (net ? allocate(net) : []),
});
