/** The small valid pieces of CIM entities (metadata, capabilities, CIDRs, rules, hostnames, reasons). */
import fc from 'fast-check';
import type { Cidr, ResourceCapabilities, Rule, RuleType } from '../../../internal.js';

export type Metadata = Record<string, string>;

/** Building blocks, also for tests that need one valid piece. */
export const metadataArb: fc.Arbitrary<Metadata> = fc.dictionary(
  fc.constantFrom('rack', 'role', 'env', 'owner', '__proto__', 'zone name'),
  fc.string({ maxLength: 8 }),
  { maxKeys: 3 },
);

const count = (max: number) => fc.option(fc.nat({ max }), { nil: null, freq: 3 });

export const capabilitiesArb: fc.Arbitrary<ResourceCapabilities> = fc.record({
  cpu_cores: count(256),
  memory_mb: count(1_048_576),
  storage_gb: count(100_000),
  metadata: metadataArb,
});

export const cidrV4Arb: fc.Arbitrary<Cidr> = fc.record({
  address: fc.ipV4(),
  prefix_len: fc.integer({ min: 0, max: 32 }),
});
export const cidrV6Arb: fc.Arbitrary<Cidr> = fc.record({
  address: fc.ipV6(),
  prefix_len: fc.integer({ min: 0, max: 128 }),
});

export const ruleArb: fc.Arbitrary<Rule> = fc.record({
  rule_type: fc.constantFrom<RuleType>('Security', 'Access', 'Compliance', 'Performance'),
  condition: fc.constantFrom('port == 22', 'env == "prod"', 'always', ''),
  action: fc.constantFrom('deny', 'allow', 'alert'),
});

export const hostnameArb: fc.Arbitrary<string> = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}(\.example\.com)?$/);

export const reasonArb = fc.constantFrom('retired', 'hardware failure', 'moved to another rack', '');
