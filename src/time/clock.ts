/**
 * Where time comes from. The runtime, its workers, the store's records and the saga timers all read
 * one Clock, so a test can move time with a virtual one instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/** The clock's time as an RFC 3339 UTC timestamp, as prosa's records store it. */
export const isoNow = (clock: Clock): string => new Date(clock.now()).toISOString();
