/**
 * Instants and their RFC 3339 text as the CIM crates write it: 0, 3, 6 or 9 fraction
 * digits, `Z` or an offset. Instants are kept as whole seconds and nanoseconds so that 9 fraction
 * digits stay exact; the text is written without `Date` where it can, since the seeded bench
 * generator renders hundreds of thousands of them.
 */
import fc from 'fast-check';

/** An instant as [whole seconds since the epoch, nanoseconds]. */
export interface Instant {
  s: number;
  ns: number;
}

/** How many fraction digits a timestamp has. */
export type FractionDigits = 0 | 3 | 6 | 9;

/** 2025-06-01T00:00:00Z, where generated streams start. */
export const EPOCH_S = 1_748_736_000;

/** Moves `t` on by `deltaNs` (>= 1) and rounds up to what `digits` can write, so text stays exact. */
export function advanceInstant(t: Instant, deltaNs: number, digits: FractionDigits): Instant {
  let s = t.s + Math.floor(deltaNs / 1e9);
  let ns = t.ns + (deltaNs % 1e9);
  const unit = 10 ** (9 - digits);
  ns = Math.ceil(ns / unit) * unit;
  while (ns >= 1e9) {
    s += 1;
    ns -= 1e9;
  }
  return { s, ns };
}

// The date-time part of the last whole second rendered in UTC: events come in time order, so
// most renders reuse it (toISOString per event was a third of the seed generator's time).
let cachedSecond = Number.NaN;
let cachedPrefix = '';

/** RFC 3339 text of an instant with `digits` fraction digits, in UTC (`Z`) or at an offset. */
export function renderInstant(t: Instant, digits: FractionDigits, offsetMinutes = 0): string {
  const fraction = digits === 0 ? '' : `.${String(t.ns).padStart(9, '0').slice(0, digits)}`;
  if (offsetMinutes === 0) {
    if (t.s !== cachedSecond) {
      cachedSecond = t.s;
      cachedPrefix = new Date(t.s * 1000).toISOString().slice(0, 19);
    }
    return `${cachedPrefix}${fraction}Z`;
  }
  const local = new Date((t.s + offsetMinutes * 60) * 1000).toISOString().slice(0, 19);
  const abs = Math.abs(offsetMinutes);
  const zone = `${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${local}${fraction}${zone}`;
}

/** As chrono writes a `DateTime<Utc>`: `Z` and the fewest of 0, 3, 6 or 9 digits that are exact. */
export function renderInstantAutoSi(t: Instant): string {
  const digits: FractionDigits = t.ns === 0 ? 0 : t.ns % 1e6 === 0 ? 3 : t.ns % 1e3 === 0 ? 6 : 9;
  return renderInstant(t, digits);
}

export interface TimestampOptions {
  /** Earliest instant, epoch milliseconds. @default 2025-06-01T00:00:00Z */
  from?: number;
  /** Latest instant, epoch milliseconds. @default one year after `from` */
  to?: number;
  /** Fraction digit counts to choose from. @default [0, 3, 6, 9] */
  digits?: readonly FractionDigits[];
  /** Also write some at an offset (`+02:00`, `-05:30`) instead of `Z`. @default false */
  offsets?: boolean;
}

/**
 * RFC 3339 timestamps as the crates write them (and as a lenient reader must accept):
 * `2025-06-01T00:00:00Z`, `...T01:46:54.482Z`, `...T01:46:54.482338614Z`, and with `offsets`,
 * `...T03:46:54+02:00`. Shrinks towards `from` with no fraction.
 */
export function timestamp(options: TimestampOptions = {}): fc.Arbitrary<string> {
  const fromS = Math.floor((options.from ?? EPOCH_S * 1000) / 1000);
  const toS = Math.floor((options.to ?? (fromS + 365 * 86_400) * 1000) / 1000);
  const digits = options.digits ?? [0, 3, 6, 9];
  const offset = options.offsets
    ? fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.constantFrom(120, -330, 60, -300))
    : fc.constant(0);
  return fc
    .record({
      s: fc.integer({ min: fromS, max: Math.max(fromS, toS) }),
      ns: fc.integer({ min: 0, max: 999_999_999 }),
      digits: fc.constantFrom(...digits),
      offset,
    })
    .map(({ s, ns, digits: d, offset: o }) => {
      const unit = 10 ** (9 - d);
      return renderInstant({ s, ns: Math.floor(ns / unit) * unit }, d, o);
    });
}
