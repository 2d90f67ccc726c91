/**
 * How far V8 lets the heap grow past what survived its last full collection. By default V8 picks a
 * factor up to 4 from its own speed figures; a worker catching up holds each batch's messages until
 * they commit, so they outlive the young generation and the old one fills with them, and with
 * factor 4 the process settles at 3-4x its live heap. A factor of 2 (100 %) took 1,000,000 events
 * of topology alone from 291-303 to 229-236 MB at the same speed, and the shipped config from
 * 348-352 to 299-300 MB at 4.5 % of its speed (a factor of 1.7: 276-287 MB at 10 %).
 */
import { setFlagsFromString } from 'node:v8';

let applied: number | undefined;

/**
 * Sets V8's heap growing factor to 1 + percent/100 for this process; 0 leaves V8's own. A
 * `--heap-growing-percent` given to node wins. The flag is read at every full collection, so it
 * applies from the next one. Returns the percent in force, or undefined when V8 decides.
 */
export function limitHeapGrowth(percent: number, execArgv = process.execArgv): number | undefined {
  const given = execArgv.find((a) => /^--heap[-_]growing[-_]percent=/.test(a));
  if (given) return Number(given.split('=')[1]);
  if (percent <= 0 || applied === percent) return applied;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  applied = percent;
  return applied;
}
