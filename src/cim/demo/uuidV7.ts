import type { Random } from './seededRandom.js';

/** `n` in lower-case hexadecimal, zero-padded to `width` digits. */
export const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => hex(i, 2));
const byteHex = (n: number): string => HEX_BYTE[n & 0xff] as string;

/**
 * A UUID v7 whose time is `ms` and whose random bits come from `rnd`: it looks like the crate's
 * fresh ids but is reproducible (a lookup per byte: it runs 5 times an event).
 */
export function uuidV7(ms: number, rnd: Random): string {
  const high = Math.floor(ms / 65_536) >>> 0; // the top 32 of the 48 time bits
  const low = ms % 65_536;
  const a = rnd.u32();
  const b = rnd.u32();
  return (
    byteHex(high >>> 24) +
    byteHex(high >>> 16) +
    byteHex(high >>> 8) +
    byteHex(high) +
    '-' +
    byteHex(low >>> 8) +
    byteHex(low) +
    '-' +
    byteHex(0x70 | (a & 0x0f)) + // version 7
    byteHex(a >>> 4) +
    '-' +
    byteHex(0x80 | ((a >>> 12) & 0x3f)) + // variant 10
    byteHex(a >>> 18) +
    '-' +
    byteHex(a >>> 26) +
    byteHex(b >>> 24) +
    byteHex(b >>> 16) +
    byteHex(b >>> 8) +
    byteHex(b) +
    byteHex(rnd.u32())
  );
}
