/**
 * Which keys might have stored state: a Bloom filter that grows with what it holds (a new filter of
 * twice the size each time the last one is full). "No" is certain, so an actor whose key was never
 * written starts new without a look-up: on a new database and in a rebuild that is every actor that
 * is not live, most of them on a stream of many entities each touched a few times. "Maybe" costs
 * the look-up it would have cost anyway. About 1.2 bytes per key for one false "maybe" in a hundred.
 */
export interface KeyFilter {
  add(key: string): void;
  /** False only for a key never added. */
  mightHave(key: string): boolean;
}

const BITS_PER_KEY = 10;
const PROBES = 7;

interface Bloom {
  readonly bits: Uint32Array;
  readonly size: number;
  readonly capacity: number;
  count: number;
}

const bloom = (capacity: number): Bloom => {
  const size = capacity * BITS_PER_KEY;
  return { bits: new Uint32Array(Math.ceil(size / 32)), size, capacity, count: 0 };
};

/** Two independent 32-bit hashes of a string (FNV-1a and a multiplicative mix), for double hashing. */
function hashes(key: string, out: Uint32Array): void {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  out[0] = a >>> 0;
  out[1] = (b | 1) >>> 0; // odd, so the probes cover the filter
}

export function createKeyFilter(initialCapacity = 4_096): KeyFilter {
  const filters: Bloom[] = [bloom(initialCapacity)];
  const h = new Uint32Array(2);

  const probe = (f: Bloom, i: number): number =>
    (((h[0] as number) + Math.imul(i, h[1] as number)) >>> 0) % f.size;
  const has = (f: Bloom): boolean => {
    for (let i = 0; i < PROBES; i++) {
      const bit = probe(f, i);
      if (((f.bits[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  };

  return {
    add(key) {
      hashes(key, h);
      let f = filters[filters.length - 1] as Bloom;
      if (f.count >= f.capacity) {
        f = bloom(f.capacity * 2);
        filters.push(f);
      }
      for (let i = 0; i < PROBES; i++) {
        const bit = probe(f, i);
        f.bits[bit >>> 5] = (f.bits[bit >>> 5] as number) | (1 << (bit & 31));
      }
      f.count++;
    },
    mightHave(key) {
      hashes(key, h);
      for (const f of filters) if (has(f)) return true;
      return false;
    },
  };
}
