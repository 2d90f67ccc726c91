/**
 * Ids that look like the crates' (UUID v7) but are derived from a time and a counter, so generated
 * events are reproducible: the same seed gives the same ids, and fast-check can replay them.
 */
import fc from 'fast-check';
import { EPOCH_S } from './time.js';

export const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0').slice(-width);

/**
 * A deterministic UUID v7: the 48-bit millisecond time, then `a` and `b` where v7 has randomness.
 *
 * @example deterministicUuidV7(Date.UTC(2025, 5, 1), 7) // '019728c9-c000-7000-8000-070000000000'
 */
export function deterministicUuidV7(ms: number, a: number, b = 0): string {
  return `${uuidV7Base(ms, a)}${hex(b, 10)}`;
}

/** All of a {@link deterministicUuidV7} but its last 10 hex digits. */
export function uuidV7Base(ms: number, a: number): string {
  const t = hex(Math.floor(ms), 12);
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${hex(a >>> 20, 3)}-${hex(0x8000 | ((a >>> 8) & 0xfff), 4)}-${hex(a & 0xff, 2)}`;
}

export interface UuidV7Options {
  /** Earliest embedded time, epoch milliseconds. @default 2025-06-01T00:00:00Z */
  from?: number;
  /** Latest embedded time, epoch milliseconds. @default one year after `from` */
  to?: number;
}

/**
 * UUID v7 strings (version 7, RFC 4122 variant) with an embedded time in `[from, to]`. They pass
 * `isUuid` and the crates' decoders; they shrink towards `from` and small counters.
 */
export function uuidV7(options: UuidV7Options = {}): fc.Arbitrary<string> {
  const from = options.from ?? EPOCH_S * 1000;
  const to = options.to ?? from + 365 * 86_400_000;
  return fc
    .tuple(
      fc.integer({ min: from, max: Math.max(from, to) }),
      fc.nat({ max: 0xffffffff }),
      fc.nat({ max: 0xffffffff }),
    )
    .map(([ms, a, b]) => deterministicUuidV7(ms, a >>> 0, b));
}
