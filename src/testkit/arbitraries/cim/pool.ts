/** The ids a generated sequence draws from, by index: a bounded pool, a few odd on purpose. */
import { hex } from '../ids.js';

export const ODD_RESOURCE_IDS = ['web-1', 'db-1', '__proto__', 'edge:1', 'ü-node'];
export const resourceIdAt = (i: number): string => ODD_RESOURCE_IDS[i] ?? `r-${i}`;
export const networkIdAt = (i: number): string => ['lan', 'wan', 'mgmt'][i] ?? `net-${i}`;
export const interfaceIdAt = (r: number, k: number): string => `${resourceIdAt(r)}.eth${k}`;
export const configurationIdAt = (i: number): string => `0190c000-0000-7000-8000-${hex(i + 1, 12)}`;
export const policyIdAt = (i: number): string => `0190d000-0000-7000-8000-${hex(i + 1, 12)}`;
export const topologyIdAt = (i: number): string => `0190e000-0000-7000-8000-${hex(i + 1, 12)}`;
