/** The CIM infrastructure entities on their own, to build sequences of one's own. */
import fc from 'fast-check';
import type {
  ComputeResource,
  ComputeType,
  Connection,
  Interface,
  Network,
  Policy,
  PolicyScope,
  SoftwareConfiguration,
} from '../../../internal.js';
import { uuidV7 } from '../ids.js';
import { capabilitiesArb, cidrV4Arb, cidrV6Arb, hostnameArb, ruleArb } from './buildingBlocks.js';
import { ODD_RESOURCE_IDS } from './pool.js';

/** Resource ids as the crates allow them: free strings, including awkward ones (`__proto__`, `edge:1`). */
export const resourceId = (): fc.Arbitrary<string> =>
  fc.oneof(fc.constantFrom(...ODD_RESOURCE_IDS), hostnameArb);

/** A `ComputeResource` (the `ComputeResourceRegistered` payload's `resource`). */
export function computeResource(options: { id?: fc.Arbitrary<string> } = {}): fc.Arbitrary<ComputeResource> {
  return fc
    .record({
      id: options.id ?? resourceId(),
      resource_type: fc.constantFrom<ComputeType>('Physical', 'VirtualMachine', 'Container'),
      hostname: hostnameArb,
      system: fc.constantFrom('x86_64-linux', 'aarch64-linux', 'aarch64-darwin'),
      capabilities: capabilitiesArb,
      services: fc.subarray(['sshd', 'nginx', 'postgresql']),
      guests: fc.array(resourceId(), { maxLength: 2 }),
    })
    .map((r) => ({ ...r, interfaces: [`${r.id}.eth0`] }));
}

/** A `Network` with an IPv4 and/or IPv6 CIDR, or neither. */
export function network(options: { id?: fc.Arbitrary<string> } = {}): fc.Arbitrary<Network> {
  return fc.record({
    id: options.id ?? fc.constantFrom('lan', 'wan', 'mgmt', 'storage'),
    name: fc.constantFrom('LAN', 'WAN', 'management', 'storage net'),
    cidr_v4: fc.option(cidrV4Arb, { nil: null }),
    cidr_v6: fc.option(cidrV6Arb, { nil: null }),
  });
}

/** A `NetworkInterface` on a resource, maybe on a network, with 0-2 addresses. */
export function networkInterface(
  options: { resourceId?: fc.Arbitrary<string>; networkId?: fc.Arbitrary<string> } = {},
): fc.Arbitrary<Interface> {
  return fc
    .record({
      resource_id: options.resourceId ?? resourceId(),
      k: fc.nat({ max: 3 }),
      network_id: fc.option(options.networkId ?? fc.constantFrom('lan', 'wan', 'mgmt'), { nil: null }),
      addresses: fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { maxLength: 2 }),
    })
    .map(({ k, ...i }) => ({ id: `${i.resource_id}.eth${k}`, ...i }));
}

/** A `PhysicalConnection` between interfaces of two resources. */
export function connection(options: { resourceId?: fc.Arbitrary<string> } = {}): fc.Arbitrary<Connection> {
  const end = fc.tuple(options.resourceId ?? resourceId(), fc.nat({ max: 3 }));
  return fc.tuple(end, end).map(([[a, ai], [b, bi]]) => ({
    from_resource: a,
    from_interface: `${a}.eth${ai}`,
    to_resource: b,
    to_interface: `${b}.eth${bi}`,
  }));
}

/** A `SoftwareConfiguration` (uuid id) of a resource. */
export function softwareConfiguration(
  options: { resourceId?: fc.Arbitrary<string> } = {},
): fc.Arbitrary<SoftwareConfiguration> {
  return fc.record({
    id: uuidV7(),
    resource_id: options.resourceId ?? resourceId(),
    software: fc.record({
      id: fc.constantFrom('nginx', 'postgresql', 'nats-server'),
      name: fc.constantFrom('nginx', 'postgresql', 'nats-server'),
      version: fc.constantFrom('1.0.0', '2.10.7', '16.4'),
      derivation_path: fc.option(fc.constant('/nix/store/abc-nginx-1.26.0'), { nil: null }),
    }),
    configuration_data: fc.jsonValue({ maxDepth: 2 }),
    dependencies: fc.subarray(['openssl', 'zlib', 'glibc']),
  });
}

/** A `PolicyRule` (uuid id), global or scoped to a resource or a network. */
export function policy(options: { resourceId?: fc.Arbitrary<string> } = {}): fc.Arbitrary<Policy> {
  return fc.record({
    id: uuidV7(),
    name: fc.constantFrom('ssh-lockdown', 'prod-access', 'PCI'),
    scope: fc.oneof(
      fc.constant<PolicyScope>('Global'),
      (options.resourceId ?? resourceId()).map((id): PolicyScope => ({ Resource: id })),
      fc.constantFrom('lan', 'wan').map((id): PolicyScope => ({ Network: id })),
    ),
    rules: fc.array(ruleArb, { maxLength: 3 }),
  });
}
