/**
 * CIM infrastructure events as they come off `INFRASTRUCTURE_EVENTS`: wire bodies (the crates'
 * exact JSON, UTF-8) with their subjects and stream sequences, ready for `decode` or a publish.
 *
 * - {@link infrastructureEventSequence}: the test kit's arbitrary of valid, causally plausible
 *   sequences (`arbitraries.cim.infrastructureEvents` in `prosa/testkit`), re-exported here with
 *   its building blocks so tests keep one import.
 * - {@link seedInfrastructureEvents}: a plain deterministic generator for benches and fault tests
 *   (200,000 events over 10,000 keys in about 0.7 s, 1.3 s on a busy two-core machine).
 * - {@link badInfrastructureEvents}: messages the decoder must refuse, each with the reason it gives.
 */
import {
  buildInfrastructureEnvelope,
  type Connection,
  type InfrastructureEventType,
} from '../../src/cim/infrastructure.js';
import type { RawEvent } from '../../src/define/projection.js';
import {
  type EnvelopeIds,
  cimEnvelope as envelope,
  GENERATED_AGGREGATE_ID,
  wire,
} from '../../src/testkit/arbitraries/cim/index.js';
import { deterministicUuidV7 } from '../../src/testkit/arbitraries/ids.js';
import {
  advanceInstant as advance,
  EPOCH_S,
  type FractionDigits,
  type Instant,
  renderInstant as render,
} from '../../src/testkit/arbitraries/time.js';

export {
  capabilitiesArb,
  cidrV4Arb,
  cidrV6Arb,
  GENERATED_AGGREGATE_ID,
  hostnameArb,
  type InfrastructureSequenceOptions,
  infrastructureEventSequence,
  metadataArb,
  ruleArb,
} from '../../src/testkit/arbitraries/cim/index.js';
export { deterministicUuidV7 } from '../../src/testkit/arbitraries/ids.js';
export type { FractionDigits } from '../../src/testkit/arbitraries/time.js';

const textEncoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// The seeded generator: plain, deterministic and fast
// ---------------------------------------------------------------------------------------------

export interface SeedOptions {
  /** Distinct entity keys the events touch (every key is created by one of the first `keys` events). @default 10_000 */
  keys?: number;
  /** @default 1 */
  seed?: number;
}

/** mulberry32: a small, fast, seedable PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return (x ^ (x >>> 14)) >>> 0;
  };
}

/** Which kind of entity key `k` is: 55% resources, 15% interfaces, 10% networks, 10% connections, 5% software, 5% policies. */
type SeedKind = 'resource' | 'interface' | 'network' | 'connection' | 'software' | 'policy';
function seedKind(k: number): SeedKind {
  const m = k % 20;
  if (m <= 10) return 'resource';
  if (m <= 13) return 'interface';
  if (m <= 15) return 'network';
  if (m <= 17) return 'connection';
  return m === 18 ? 'software' : 'policy';
}

const ROLES = ['web', 'db', 'cache', 'queue', 'batch'];
const SYSTEMS = ['x86_64-linux', 'aarch64-linux'];

/**
 * `n` CIM infrastructure events on the wire over `keys` entity keys, the same for the same seed:
 * every key is created first (registration, definition, connection, ...), then keys are picked at
 * random and given a plausible next event (updates, removals and re-registrations of resources,
 * severed and re-made connections, network removal and redefinition, topologies, new software
 * versions, policy changes). Bodies are ~400-700 bytes, like the crates' events.
 *
 * @example seedInfrastructureEvents(200_000, { keys: 10_000, seed: 7 }) // RawEvent[] with seq 1..200000
 */
export function seedInfrastructureEvents(n: number, options: SeedOptions = {}): RawEvent[] {
  const keys = Math.max(1, options.keys ?? 10_000);
  const next = prng(options.seed ?? 1);
  const created = new Uint8Array(keys); // 0 never, 1 live, 2 removed/severed
  const out = new Array<RawEvent>(n);
  let t: Instant = { s: EPOCH_S, ns: 0 };
  const resourceOf = (k: number) => `srv-${k - (k % 20)}`; // each block of 20 keys has one resource at its start
  const connectionOfKey = (k: number): Connection => ({
    from_resource: resourceOf(k),
    from_interface: 'eth0',
    to_resource: `srv-${(k - (k % 20) + 20) % (keys - (keys % 20) || 20)}`,
    to_interface: `port-${k}`,
  });
  const networkOfKey = (k: number) => {
    const third = (k >>> 8) & 0xff;
    const fourth = k & 0xff;
    return {
      id: `net-${k}`,
      name: `net ${k}`,
      cidr_v4: { address: `10.${third}.${fourth}.0`, prefix_len: 24 },
      cidr_v6: k % 3 === 0 ? { address: `fd00:${k.toString(16)}::`, prefix_len: 64 } : null,
    };
  };

  for (let i = 0; i < n; i++) {
    const digits = ([0, 3, 6, 9] as const)[next() & 3] as FractionDigits;
    t = advance(t, 1 + (next() % 5_000_000), digits);
    const ids: EnvelopeIds = { at: t, timestamp: render(t, digits), index: i };
    const k = i < keys ? i : next() % keys;
    const state = created[k] as number;
    const roll = next() % 100;
    let type: InfrastructureEventType;
    let body: unknown;
    switch (seedKind(k)) {
      case 'resource': {
        const id = `srv-${k}`;
        if (state === 0 || state === 2 || roll < 8) {
          created[k] = 1;
          type = 'ComputeResourceRegistered';
          body = envelope(
            type,
            {
              resource: {
                id,
                resource_type: k % 3 === 0 ? 'VirtualMachine' : 'Physical',
                hostname: `${id}.dc1.example.com`,
                system: SYSTEMS[k & 1] as string,
                capabilities: {
                  cpu_cores: 2 ** (1 + (roll % 6)),
                  memory_mb: 1024 * (1 + (roll % 64)),
                  storage_gb: roll % 5 === 0 ? null : 100 * (1 + (roll % 20)),
                  metadata: {
                    rack: `r${k % 40}`,
                    role: ROLES[k % ROLES.length] as string,
                    env: roll < 50 ? 'prod' : 'staging',
                  },
                },
                interfaces: [`${id}.eth0`],
                services: [],
                guests: [],
              },
            },
            ids,
          );
        } else if (roll < 90) {
          type = 'ResourceUpdated';
          body = envelope(
            type,
            {
              resource_id: id,
              updates: {
                hostname: roll % 4 === 0 ? `${id}-${roll}.dc1.example.com` : null,
                capabilities:
                  roll % 3 === 0
                    ? {
                        cpu_cores: 2 ** (1 + (roll % 6)),
                        memory_mb: 2048 * (1 + (roll % 32)),
                        storage_gb: null,
                        metadata: {},
                      }
                    : null,
                metadata: roll % 2 === 0 ? { rack: `r${roll % 40}`, patched: String(i) } : null,
              },
            },
            ids,
          );
        } else {
          created[k] = 2;
          type = 'ResourceRemoved';
          body = envelope(type, { resource_id: id, reason: 'decommissioned by the seed' }, ids);
        }
        break;
      }
      case 'interface': {
        created[k] = 1;
        type = 'InterfaceAdded';
        body = envelope(
          type,
          {
            interface: {
              id: `${resourceOf(k)}.if${k}`,
              resource_id: resourceOf(k),
              network_id: `net-${k - (k % 20) + 14}`,
              addresses: [`10.${(k >>> 8) & 0xff}.${k & 0xff}.${1 + (roll % 250)}`],
            },
          },
          ids,
        );
        break;
      }
      case 'network': {
        if (state === 1 && roll < 20) {
          created[k] = 2;
          type = 'NetworkRemoved';
          body = envelope(type, { network_id: `net-${k}`, reason: 'retired by the seed' }, ids);
        } else if (state === 1 && roll < 30) {
          type = 'NetworkTopologyDefined';
          const c = k - (k % 20) + 16; // the connection keys of this block
          body = envelope(
            type,
            {
              topology_id: deterministicUuidV7(t.s * 1000, i, 9),
              networks: [networkOfKey(k)],
              connections: c < keys ? [connectionOfKey(c)] : [],
            },
            ids,
          );
          if (c < keys) created[c] = 1;
        } else {
          created[k] = 1;
          type = 'NetworkDefined';
          body = envelope(type, { network: networkOfKey(k) }, ids);
        }
        break;
      }
      case 'connection': {
        if (state === 1 && roll < 40) {
          created[k] = 2;
          type = 'ConnectionSevered';
          body = envelope(type, { connection: connectionOfKey(k), reason: 'cable pulled by the seed' }, ids);
        } else {
          created[k] = 1;
          type = 'ResourcesConnected';
          body = envelope(type, { connection: connectionOfKey(k) }, ids);
        }
        break;
      }
      case 'software': {
        created[k] = 1;
        type = 'SoftwareConfigured';
        body = envelope(
          type,
          {
            configuration: {
              id: deterministicUuidV7(0, k, 0xc0ffee),
              resource_id: resourceOf(k),
              software: { id: 'nginx', name: 'nginx', version: `1.${roll % 30}.0`, derivation_path: null },
              configuration_data: { worker_processes: 1 + (roll % 8), listen: [80, 443] },
              dependencies: ['openssl'],
            },
          },
          ids,
        );
        break;
      }
      case 'policy': {
        created[k] = 1;
        type = 'PolicyApplied';
        body = envelope(
          type,
          {
            policy: {
              id: deterministicUuidV7(0, k, 0xfee),
              name: `policy ${k}`,
              scope: roll < 50 ? 'Global' : { Resource: resourceOf(k) },
              rules: [
                { rule_type: 'Security', condition: `port == ${roll}`, action: roll < 50 ? 'deny' : 'allow' },
              ],
            },
          },
          ids,
        );
        break;
      }
    }
    out[i] = wire(type, body, i + 1);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Bad input: messages the decoder must dead-letter, with the reason it must give
// ---------------------------------------------------------------------------------------------

export interface BadInfrastructureSample {
  /** What is wrong, in words (also the test name). */
  name: string;
  raw: RawEvent;
  /** What the InvalidEventError message must contain. */
  reason: string;
}

const good = (): Record<string, unknown> =>
  buildInfrastructureEnvelope(
    'ComputeResourceRegistered',
    {
      resource: {
        id: 'web-1',
        resource_type: 'Physical',
        hostname: 'web-1',
        system: 'x86_64-linux',
        capabilities: { cpu_cores: 4, memory_mb: 8192, storage_gb: null, metadata: {} },
        interfaces: [],
        services: [],
        guests: [],
      },
    },
    { aggregateId: GENERATED_AGGREGATE_ID, timestamp: '2025-06-01T00:00:00.123Z' },
  ) as unknown as Record<string, unknown>;

const bytes = (text: string) => textEncoder.encode(text);
const raw = (body: unknown, subject = 'infrastructure.compute.registered'): RawEvent => ({
  subject,
  seq: 1,
  data: bytes(JSON.stringify(body)),
});
const edit = (change: (e: Record<string, unknown>, variant: Record<string, unknown>) => void) => {
  const e = good();
  change(
    e,
    (e.data as Record<string, Record<string, unknown>>).ComputeResourceRegistered as Record<string, unknown>,
  );
  return e;
};

/** One sample of each way a message can fail to decode. */
export function badInfrastructureEvents(): BadInfrastructureSample[] {
  const v2Body = {
    event_id: '0190f000-0000-7000-8000-000000000001',
    aggregate_id: '0190f000-0000-7000-8000-000000000002',
    sequence: 1,
    timestamp: '2025-06-01T00:00:00Z',
    correlation_id: '0190f000-0000-7000-8000-000000000003',
    causation_id: '0190f000-0000-7000-8000-000000000002',
    event_type: 'ResourceRegistered',
    data: {
      aggregate_type: 'compute_resource',
      event: {
        type: 'resource_registered',
        event_version: 1,
        event_id: '0190f000-0000-7000-8000-000000000004',
        aggregate_id: '0190f000-0000-7000-8000-000000000002',
        timestamp: '2025-06-01T00:00:00Z',
        correlation_id: '0190f000-0000-7000-8000-000000000003',
        causation_id: null,
        hostname: 'web-1.example.com',
        resource_type: 'physical_server',
      },
    },
    metadata: null,
  };
  return [
    {
      name: 'a body that is not UTF-8',
      raw: {
        subject: 'infrastructure.compute.registered',
        seq: 1,
        data: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      },
      reason: 'body is not valid UTF-8; expected a CIM StoredEvent as UTF-8 JSON',
    },
    {
      name: 'a body that is not JSON',
      raw: { subject: 'infrastructure.compute.registered', seq: 1, data: bytes('{"event_id": ') },
      reason: 'body is not JSON',
    },
    {
      name: 'a JSON array',
      raw: raw([1, 2]),
      reason: 'expected a CIM StoredEvent JSON object, got an array',
    },
    {
      name: 'an envelope without a timestamp',
      raw: raw(edit((e) => delete e.timestamp)),
      reason:
        'envelope field timestamp: expected an RFC 3339 timestamp like "2025-01-01T00:00:00.123Z", got nothing',
    },
    {
      name: 'an envelope timestamp that is not RFC 3339',
      raw: raw(edit((e) => (e.timestamp = '2025-13-01 00:00'))),
      reason: 'envelope field timestamp: expected an RFC 3339 timestamp',
    },
    {
      name: 'an envelope sequence that is a string',
      raw: raw(edit((e) => (e.sequence = '1'))),
      reason: 'envelope field sequence: expected an integer, got "1"',
    },
    {
      name: 'an unknown event type',
      raw: raw(edit((e) => (e.event_type = 'ServerExploded'))),
      reason:
        'event_type "ServerExploded" is not an infrastructure event; expected one of ComputeResourceRegistered,',
    },
    {
      name: 'a data tag that does not match event_type',
      raw: raw(edit((e) => (e.event_type = 'NetworkDefined'))),
      reason: 'data is tagged "ComputeResourceRegistered" but event_type is "NetworkDefined"',
    },
    {
      name: 'data that is not externally tagged',
      raw: raw(
        edit((e, v) => {
          e.data = v;
        }),
      ),
      reason: 'data: expected exactly one key, "ComputeResourceRegistered"',
    },
    {
      name: 'a count that is a string',
      raw: raw(
        edit(
          (_, v) => ((v.resource as { capabilities: Record<string, unknown> }).capabilities.cpu_cores = '4'),
        ),
      ),
      reason:
        'data.ComputeResourceRegistered.resource.capabilities.cpu_cores: expected a non-negative integer or null, got "4"',
    },
    {
      name: 'a resource without an id',
      raw: raw(edit((_, v) => delete (v.resource as Record<string, unknown>).id)),
      reason: 'data.ComputeResourceRegistered.resource.id: expected a non-empty id string, got nothing',
    },
    {
      name: 'an unknown resource type',
      raw: raw(edit((_, v) => ((v.resource as Record<string, unknown>).resource_type = 'Mainframe'))),
      reason:
        'data.ComputeResourceRegistered.resource.resource_type: expected one of "Physical", "VirtualMachine", "Container", got "Mainframe"',
    },
    {
      name: 'a domain event id that is not a uuid',
      raw: raw(edit((_, v) => (v.event_id = 'evt-1'))),
      reason: 'data.ComputeResourceRegistered.event_id: expected a uuid string, got "evt-1"',
    },
    {
      name: 'the crate\'s "v2" shape on its per-aggregate subject',
      raw: raw(v2Body, 'infrastructure.compute.0190f000-0000-7000-8000-000000000002.resourceregistered'),
      reason: 'the crate\'s newer "v2" event shape',
    },
    {
      name: 'the crate\'s "v2" shape on a v1 subject',
      raw: raw(v2Body),
      reason: 'event_type "ResourceRegistered": this is the crate\'s newer "v2" event shape',
    },
  ];
}
