/**
 * The plan a generated sequence shrinks on: steps over indexes into the id pool (register, update,
 * remove, connect, ...) and the timing of each, before they are made into wire events.
 */
import fc from 'fast-check';
import type { Cidr, ComputeType, ResourceCapabilities, Rule } from '../../../internal.js';
import type { FractionDigits } from '../time.js';
import {
  capabilitiesArb,
  cidrV4Arb,
  cidrV6Arb,
  hostnameArb,
  type Metadata,
  metadataArb,
  reasonArb,
  ruleArb,
} from './buildingBlocks.js';

export interface InfrastructureSequenceOptions {
  /** @default 0 */
  minEvents?: number;
  /** @default 40 */
  maxEvents?: number;
  /** Compute resource ids in the pool (a few are odd on purpose: `__proto__`, `edge:1`). @default 5 */
  resources?: number;
  /** @default 3 */
  networks?: number;
  /** Interfaces per resource. @default 2 */
  interfaces?: number;
  /** Software configuration ids (uuids) in the pool. @default 3 */
  configurations?: number;
  /** Policy ids (uuids) in the pool. @default 3 */
  policies?: number;
}

export interface NetworkPlan {
  n: number;
  name: string;
  v4: Cidr | null;
  v6: Cidr | null;
}
export interface ConnectionPlan {
  a: number;
  ai: number;
  b: number;
  bi: number;
}
type ScopePlan = { kind: 'Global' } | { kind: 'Resource'; r: number } | { kind: 'Network'; n: number };
type UpdateKey = 'hostname' | 'capabilities' | 'metadata';

export type Step =
  | {
      kind: 'register';
      r: number;
      resource_type: ComputeType;
      hostname: string;
      system: string;
      capabilities: ResourceCapabilities;
    }
  | {
      kind: 'update';
      r: number;
      known: boolean;
      hostname: string | null;
      capabilities: ResourceCapabilities | null;
      metadata: Metadata | null;
      omit: UpdateKey[];
    }
  | { kind: 'remove'; r: number; known: boolean; reason: string }
  | { kind: 'interface'; r: number; k: number; network: number | null; addresses: string[] }
  | { kind: 'network'; network: NetworkPlan }
  | { kind: 'topology'; topology: number; networks: NetworkPlan[]; connections: ConnectionPlan[] }
  | { kind: 'connect'; connection: ConnectionPlan }
  | { kind: 'sever'; known: boolean; pick: number; connection: ConnectionPlan; reason: string }
  | { kind: 'removeNetwork'; n: number; reason: string }
  | {
      kind: 'software';
      c: number;
      r: number;
      software: string;
      version: string;
      derivation: string | null;
      data: unknown;
      dependencies: string[];
    }
  | { kind: 'policy'; p: number; name: string; scope: ScopePlan; rules: Rule[] };

export interface Timing {
  deltaNs: number;
  digits: FractionDigits;
  offset: number;
  causationNull: boolean;
  extraFields: boolean;
}

export function stepArb(o: Required<InfrastructureSequenceOptions>): fc.Arbitrary<Step> {
  const r = fc.nat({ max: o.resources - 1 });
  const n = fc.nat({ max: o.networks - 1 });
  const k = fc.nat({ max: o.interfaces - 1 });
  const networkPlan: fc.Arbitrary<NetworkPlan> = fc.record({
    n,
    name: fc.constantFrom('LAN', 'WAN', 'management', 'storage net'),
    v4: fc.option(cidrV4Arb, { nil: null }),
    v6: fc.option(cidrV6Arb, { nil: null }),
  });
  const connectionPlan: fc.Arbitrary<ConnectionPlan> = fc.record({ a: r, ai: k, b: r, bi: k });
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('register' as const),
        r,
        resource_type: fc.constantFrom<ComputeType>('Physical', 'VirtualMachine', 'Container'),
        hostname: hostnameArb,
        system: fc.constantFrom('x86_64-linux', 'aarch64-linux', 'aarch64-darwin'),
        capabilities: capabilitiesArb,
      }),
    },
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('update' as const),
        r,
        known: fc.boolean(),
        hostname: fc.option(hostnameArb, { nil: null }),
        capabilities: fc.option(capabilitiesArb, { nil: null }),
        metadata: fc.option(metadataArb, { nil: null }),
        omit: fc.subarray<UpdateKey>(['hostname', 'capabilities', 'metadata']),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('remove' as const),
        r,
        known: fc.boolean(),
        reason: reasonArb,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('interface' as const),
        r,
        k,
        network: fc.option(n, { nil: null }),
        addresses: fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { maxLength: 2 }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('network' as const), network: networkPlan }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('topology' as const),
        topology: fc.nat({ max: 2 }),
        networks: fc.array(networkPlan, { maxLength: 3 }),
        connections: fc.array(connectionPlan, { maxLength: 3 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('connect' as const), connection: connectionPlan }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('sever' as const),
        known: fc.boolean(),
        pick: fc.nat(),
        connection: connectionPlan,
        reason: reasonArb,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('removeNetwork' as const), n, reason: reasonArb }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('software' as const),
        c: fc.nat({ max: o.configurations - 1 }),
        r,
        software: fc.constantFrom('nginx', 'postgresql', 'nats-server'),
        version: fc.constantFrom('1.0.0', '2.10.7', '16.4'),
        derivation: fc.option(fc.constant('/nix/store/abc-nginx-1.26.0'), { nil: null }),
        data: fc.jsonValue({ maxDepth: 2 }),
        dependencies: fc.subarray(['openssl', 'zlib', 'glibc']),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('policy' as const),
        p: fc.nat({ max: o.policies - 1 }),
        name: fc.constantFrom('ssh-lockdown', 'prod-access', 'PCI'),
        scope: fc.oneof(
          fc.constant({ kind: 'Global' as const }),
          fc.record({ kind: fc.constant('Resource' as const), r }),
          fc.record({ kind: fc.constant('Network' as const), n }),
        ),
        rules: fc.array(ruleArb, { maxLength: 3 }),
      }),
    },
  );
}

/** Time between events and how its timestamp is written; now and then a null causation or extra fields. */
export const timingArb: fc.Arbitrary<Timing> = fc.record({
  deltaNs: fc.integer({ min: 1, max: 3_000_000_000 }),
  digits: fc.constantFrom<FractionDigits>(0, 3, 6, 9),
  offset: fc.oneof(
    { weight: 6, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.constantFrom(120, -330, 60) },
  ),
  causationNull: fc.oneof(
    { weight: 9, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
  extraFields: fc.oneof(
    { weight: 9, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
});
