import { describe, expect, it } from 'vitest';
import {
  buildInfrastructureEnvelope,
  connectionId,
  decodeInfrastructureEvent,
  defaultInfrastructureId,
  encodeInfrastructureEvent,
  type InfrastructureEventType,
  type InfrastructurePayloadInput,
  infrastructureEventTypes,
  infrastructureSubjects,
  makeComputeResource,
  makeConnection,
} from '../../../src/cim/infrastructure.js';
import type { RawEvent } from '../../../src/define/projection.js';
import { InvalidEventError } from '../../../src/errors.js';
import { badInfrastructureEvents } from '../../support/cimEvents.js';

// Fixed ids so that a fixture is the exact text the crate publishes (serde: compact, fields in
// declaration order, enums externally tagged, chrono timestamps with 0/3/6/9 fraction digits).
const ENVELOPE_ID = '019a5c20-fe26-72e0-b50d-1dbfdecb8f73';
const AGGREGATE_ID = '019a5c20-fe20-7000-8000-0000000000aa';
const ENVELOPE_CORRELATION = '019a5c20-fe26-72e0-b50d-1dbfdecb8f74';
const ENVELOPE_CAUSATION = '019a5c20-fe26-72e0-b50d-1dbfdecb8f75';
const DOMAIN_EVENT_ID = '019a5c20-fe25-7111-8000-000000000001';
const DOMAIN_CORRELATION = '019a5c20-fe25-7111-8000-000000000002';
const APPENDED_AT = '2025-11-07T01:46:54.482338614Z';
const OCCURRED_AT = '2025-11-07T01:46:54.482301Z';
const POLICY_ID = '019a5c20-fe25-7222-8000-000000000003';
const CONFIGURATION_ID = '019a5c20-fe25-7333-8000-000000000004';
const TOPOLOGY_ID = '019a5c20-fe25-7444-8000-000000000005';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The crate's `StoredEvent` text around a variant's own fields (given as JSON text after the domain ids). */
function crateText(type: string, variantFields: string): string {
  return (
    `{"event_id":"${ENVELOPE_ID}","aggregate_id":"${AGGREGATE_ID}","sequence":1,"timestamp":"${APPENDED_AT}",` +
    `"correlation_id":"${ENVELOPE_CORRELATION}","causation_id":"${ENVELOPE_CAUSATION}","event_type":"${type}",` +
    `"data":{"${type}":{"event_id":"${DOMAIN_EVENT_ID}","correlation_id":"${DOMAIN_CORRELATION}","causation_id":null,` +
    `"timestamp":"${OCCURRED_AT}",${variantFields}}},"metadata":null}`
  );
}

const message = (subject: string, text: string, seq = 1): RawEvent => ({
  subject,
  seq,
  data: enc.encode(text),
});

const WEB1 =
  '{"id":"web-1","resource_type":"Physical","hostname":"web-1.example.com","system":"x86_64-linux",' +
  '"capabilities":{"cpu_cores":8,"memory_mb":32768,"storage_gb":null,"metadata":{"rack":"A1"}},' +
  '"interfaces":["web-1.eth0"],"services":["nginx"],"guests":[]}';
const LAN = '{"id":"lan","name":"LAN","cidr_v4":{"address":"10.0.1.0","prefix_len":24},"cidr_v6":null}';
const WAN =
  '{"id":"wan","name":"WAN","cidr_v4":{"address":"192.0.2.0","prefix_len":24},"cidr_v6":{"address":"2001:db8::","prefix_len":32}}';
const CABLE =
  '{"from_resource":"web-1","from_interface":"eth0","to_resource":"sw-1","to_interface":"port-7"}';

/** Each event type as the crates write it, with the decoded `data` fields a reader relies on. */
const fixtures: { [T in InfrastructureEventType]: { fields: string; expect: (d: unknown) => void } } = {
  ComputeResourceRegistered: {
    fields: `"resource":${WEB1}`,
    expect: (d) =>
      expect(d).toMatchObject({
        resource: {
          id: 'web-1',
          resource_type: 'Physical',
          hostname: 'web-1.example.com',
          capabilities: { cpu_cores: 8, memory_mb: 32768, storage_gb: null, metadata: { rack: 'A1' } },
        },
      }),
  },
  ResourceUpdated: {
    fields:
      '"resource_id":"web-1","updates":{"hostname":"web-01.example.com","capabilities":null,"metadata":{"rack":"B2"}}',
    expect: (d) =>
      expect(d).toMatchObject({
        resource_id: 'web-1',
        updates: { hostname: 'web-01.example.com', capabilities: null, metadata: { rack: 'B2' } },
      }),
  },
  ResourceRemoved: {
    fields: '"resource_id":"web-1","reason":"hardware failure"',
    expect: (d) => expect(d).toMatchObject({ resource_id: 'web-1', reason: 'hardware failure' }),
  },
  InterfaceAdded: {
    fields:
      '"interface":{"id":"web-1.eth0","resource_id":"web-1","network_id":"lan","addresses":["10.0.1.5","fe80::1"]}',
    expect: (d) =>
      expect(d).toMatchObject({
        interface: {
          id: 'web-1.eth0',
          resource_id: 'web-1',
          network_id: 'lan',
          addresses: ['10.0.1.5', 'fe80::1'],
        },
      }),
  },
  NetworkDefined: {
    fields: `"network":${LAN}`,
    expect: (d) =>
      expect(d).toMatchObject({
        network: { id: 'lan', name: 'LAN', cidr_v4: { address: '10.0.1.0', prefix_len: 24 }, cidr_v6: null },
      }),
  },
  NetworkTopologyDefined: {
    fields: `"topology_id":"${TOPOLOGY_ID}","networks":[${LAN},${WAN}],"connections":[${CABLE}]`,
    expect: (d) =>
      expect(d).toMatchObject({
        topology_id: TOPOLOGY_ID,
        networks: [{ id: 'lan' }, { id: 'wan', cidr_v6: { address: '2001:db8::', prefix_len: 32 } }],
        connections: [{ from_resource: 'web-1', to_interface: 'port-7' }],
      }),
  },
  ResourcesConnected: {
    fields: `"connection":${CABLE}`,
    expect: (d) =>
      expect(d).toMatchObject({
        connection: {
          from_resource: 'web-1',
          from_interface: 'eth0',
          to_resource: 'sw-1',
          to_interface: 'port-7',
        },
      }),
  },
  SoftwareConfigured: {
    fields:
      `"configuration":{"id":"${CONFIGURATION_ID}","resource_id":"web-1","software":{"id":"nginx","name":"nginx",` +
      '"version":"1.26.0","derivation_path":"/nix/store/abc-nginx-1.26.0"},"configuration_data":{"worker_processes":4},' +
      '"dependencies":["openssl"]}',
    expect: (d) =>
      expect(d).toMatchObject({
        configuration: {
          id: CONFIGURATION_ID,
          software: { id: 'nginx', version: '1.26.0', derivation_path: '/nix/store/abc-nginx-1.26.0' },
          configuration_data: { worker_processes: 4 },
          dependencies: ['openssl'],
        },
      }),
  },
  PolicyApplied: {
    fields:
      `"policy":{"id":"${POLICY_ID}","name":"ssh-lockdown","scope":{"Resource":"web-1"},` +
      '"rules":[{"rule_type":"Security","condition":"port == 22","action":"deny"}]}',
    expect: (d) =>
      expect(d).toMatchObject({
        policy: {
          id: POLICY_ID,
          scope: { Resource: 'web-1' },
          rules: [{ rule_type: 'Security', condition: 'port == 22', action: 'deny' }],
        },
      }),
  },
  ConnectionSevered: {
    fields: `"connection":${CABLE},"reason":"cable pulled"`,
    expect: (d) =>
      expect(d).toMatchObject({ connection: { from_resource: 'web-1' }, reason: 'cable pulled' }),
  },
  NetworkRemoved: {
    fields: '"network_id":"lan","reason":"merged into wan"',
    expect: (d) => expect(d).toMatchObject({ network_id: 'lan', reason: 'merged into wan' }),
  },
};

/** decode, expecting an InvalidEventError; returns its message. */
function rejection(raw: RawEvent): string {
  let thrown: unknown;
  try {
    decodeInfrastructureEvent(raw);
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(InvalidEventError);
  return (thrown as Error).message;
}

/** A crate message of `type` whose parsed body `change` has edited. */
// biome-ignore lint/suspicious/noExplicitAny: the edits reach into arbitrary JSON paths of a parsed body
type Json = Record<string, any>;
function edited(type: InfrastructureEventType, change: (body: Json, variant: Json) => void) {
  const body = JSON.parse(crateText(type, fixtures[type].fields));
  change(body, body.data[type]);
  return message(infrastructureSubjects[type], JSON.stringify(body));
}

describe('decodeInfrastructureEvent', () => {
  describe.each(infrastructureEventTypes)('when the message is the crate wire shape of %s', (type) => {
    const raw = message(infrastructureSubjects[type], crateText(type, fixtures[type].fields));

    it('names the event type in type and event_type', () => {
      const e = decodeInfrastructureEvent(raw);
      expect(e.type).toBe(type);
      expect(e.event_type).toBe(type);
    });

    it('keeps the envelope fields and unwraps data to the variant object', () => {
      const e = decodeInfrastructureEvent(raw);
      expect(e).toMatchObject({
        event_id: ENVELOPE_ID,
        aggregate_id: AGGREGATE_ID,
        sequence: 1,
        timestamp: APPENDED_AT,
        correlation_id: ENVELOPE_CORRELATION,
        causation_id: ENVELOPE_CAUSATION,
        metadata: null,
      });
      expect(e.data).toMatchObject({
        event_id: DOMAIN_EVENT_ID,
        correlation_id: DOMAIN_CORRELATION,
        causation_id: null,
        timestamp: OCCURRED_AT,
      });
      fixtures[type].expect(e.data);
    });
  });

  describe('when NetworkDefined and NetworkTopologyDefined come on their shared subject', () => {
    it('dispatches on the data tag', () => {
      const subject = 'infrastructure.network.defined';
      expect(
        decodeInfrastructureEvent(
          message(subject, crateText('NetworkDefined', fixtures.NetworkDefined.fields)),
        ).type,
      ).toBe('NetworkDefined');
      const topology = crateText('NetworkTopologyDefined', fixtures.NetworkTopologyDefined.fields);
      expect(decodeInfrastructureEvent(message(subject, topology)).type).toBe('NetworkTopologyDefined');
    });
  });

  describe('when an event comes on a subject other than its own', () => {
    it('decodes it by its data tag, not by the subject', () => {
      const raw = message(
        'infrastructure.network.added',
        crateText('ResourceRemoved', fixtures.ResourceRemoved.fields),
      );
      expect(decodeInfrastructureEvent(raw).type).toBe('ResourceRemoved');
    });
  });

  describe('when the envelope causation_id is null or missing', () => {
    it('reads null for null', () => {
      expect(
        decodeInfrastructureEvent(edited('ResourceRemoved', (b) => (b.causation_id = null))).causation_id,
      ).toBeNull();
    });
    it('reads null for a missing one', () => {
      expect(
        decodeInfrastructureEvent(edited('ResourceRemoved', (b) => delete b.causation_id)).causation_id,
      ).toBeNull();
    });
  });

  describe('when a domain event has a causation_id', () => {
    it('keeps it', () => {
      const e = decodeInfrastructureEvent(
        edited('ResourceRemoved', (_, v) => (v.causation_id = DOMAIN_CORRELATION)),
      );
      expect(e.data.causation_id).toBe(DOMAIN_CORRELATION);
    });
  });

  describe('when ResourceUpdated leaves keys out of updates', () => {
    it('reads each missing key as null', () => {
      const e = decodeInfrastructureEvent(
        edited('ResourceUpdated', (_, v) => (v.updates = { hostname: 'h2' })),
      );
      expect(e.type === 'ResourceUpdated' && e.data.updates).toEqual({
        hostname: 'h2',
        capabilities: null,
        metadata: null,
      });
    });
    it('reads an empty updates object as three nulls', () => {
      const e = decodeInfrastructureEvent(edited('ResourceUpdated', (_, v) => (v.updates = {})));
      expect(e.type === 'ResourceUpdated' && e.data.updates).toEqual({
        hostname: null,
        capabilities: null,
        metadata: null,
      });
    });
  });

  describe('when optional fields are missing', () => {
    it('reads a missing network_id, cidr and derivation_path as null', () => {
      const i = decodeInfrastructureEvent(edited('InterfaceAdded', (_, v) => delete v.interface.network_id));
      expect(i.type === 'InterfaceAdded' && i.data.interface.network_id).toBeNull();
      const n = decodeInfrastructureEvent(edited('NetworkDefined', (_, v) => delete v.network.cidr_v6));
      expect(n.type === 'NetworkDefined' && n.data.network.cidr_v6).toBeNull();
      const s = decodeInfrastructureEvent(
        edited('SoftwareConfigured', (_, v) => delete v.configuration.software.derivation_path),
      );
      expect(s.type === 'SoftwareConfigured' && s.data.configuration.software.derivation_path).toBeNull();
    });
  });

  describe('when the message has fields the contract does not name', () => {
    it('ignores them in the envelope and in the payload', () => {
      const raw = edited('ResourcesConnected', (b, v) => {
        b.schema_version = 2;
        v.x_trace = { origin: 'test' };
        v.connection.bandwidth = '10G';
      });
      const e = decodeInfrastructureEvent(raw);
      expect(e.type).toBe('ResourcesConnected');
      expect(e).not.toHaveProperty('schema_version');
    });
  });

  describe('when timestamps have another fraction length or an offset', () => {
    it.each([
      '2025-11-07T01:46:54Z',
      '2025-11-07T01:46:54.482Z',
      '2025-11-07T01:46:54.482338Z',
      '2025-11-07T01:46:54.482338614Z',
      '2025-11-07T03:46:54.4+02:00',
      '2025-11-06T20:16:54.123456789-05:30',
      '2024-02-29T00:00:00z',
    ])('accepts %s and keeps it as it came', (timestamp) => {
      const e = decodeInfrastructureEvent(
        edited('ResourceRemoved', (b, v) => {
          b.timestamp = timestamp;
          v.timestamp = timestamp;
        }),
      );
      expect(e.timestamp).toBe(timestamp);
      expect(e.data.timestamp).toBe(timestamp);
    });
  });

  describe('when the message is not valid under the contract', () => {
    it.each(badInfrastructureEvents().map((s) => [s.name, s] as const))(
      'rejects %s, saying what was expected',
      (_, sample) => {
        expect(rejection(sample.raw)).toContain(sample.reason);
      },
    );
  });

  describe('when a payload field is missing or ill-typed', () => {
    const cases: [string, RawEvent, string][] = [
      [
        'ResourceUpdated without updates',
        edited('ResourceUpdated', (_, v) => delete v.updates),
        'data.ResourceUpdated.updates: expected {hostname, capabilities, metadata} (each null = unchanged), got nothing',
      ],
      [
        'a metadata value that is a number',
        edited('ResourceUpdated', (_, v) => (v.updates.metadata = { rack: 7 })),
        'data.ResourceUpdated.updates.metadata.rack: expected a string, got 7',
      ],
      [
        'a negative memory size',
        edited('ComputeResourceRegistered', (_, v) => (v.resource.capabilities.memory_mb = -1)),
        'data.ComputeResourceRegistered.resource.capabilities.memory_mb: expected a non-negative integer or null, got -1',
      ],
      [
        'interfaces that are not an array',
        edited('ComputeResourceRegistered', (_, v) => (v.resource.interfaces = 'eth0')),
        'data.ComputeResourceRegistered.resource.interfaces: expected an array of strings, got "eth0"',
      ],
      [
        'an address that is not an IP address',
        edited('InterfaceAdded', (_, v) => (v.interface.addresses = ['10.0.1.5', 'localhost'])),
        'data.InterfaceAdded.interface.addresses[1]: expected an IPv4 or IPv6 address, got "localhost"',
      ],
      [
        'an IPv4 CIDR with prefix 33',
        edited('NetworkDefined', (_, v) => (v.network.cidr_v4.prefix_len = 33)),
        'data.NetworkDefined.network.cidr_v4.prefix_len: expected an integer from 0 to 32, got 33',
      ],
      [
        'an IPv6 CIDR whose address is IPv4',
        edited('NetworkDefined', (_, v) => (v.network.cidr_v6 = { address: '10.0.0.0', prefix_len: 8 })),
        'data.NetworkDefined.network.cidr_v6.address: expected an IPv6 address, got "10.0.0.0"',
      ],
      [
        'a CIDR written as text',
        edited('NetworkDefined', (_, v) => (v.network.cidr_v4 = '10.0.1.0/24')),
        'data.NetworkDefined.network.cidr_v4: expected {"address": "<IPv4 address>", "prefix_len": n} or null, got "10.0.1.0/24"',
      ],
      [
        'a topology id that is not a uuid',
        edited('NetworkTopologyDefined', (_, v) => (v.topology_id = 'dc1')),
        'data.NetworkTopologyDefined.topology_id: expected a uuid string, got "dc1"',
      ],
      [
        'a topology connection without a target interface',
        edited('NetworkTopologyDefined', (_, v) => delete v.connections[0].to_interface),
        'data.NetworkTopologyDefined.connections[0].to_interface: expected a non-empty id string, got nothing',
      ],
      [
        'a connection with an empty resource id',
        edited('ResourcesConnected', (_, v) => (v.connection.from_resource = '')),
        'data.ResourcesConnected.connection.from_resource: expected a non-empty id string, got ""',
      ],
      [
        'a configuration id that is not a uuid',
        edited('SoftwareConfigured', (_, v) => (v.configuration.id = 'nginx-on-web-1')),
        'data.SoftwareConfigured.configuration.id: expected a uuid string, got "nginx-on-web-1"',
      ],
      [
        'a configuration without configuration_data',
        edited('SoftwareConfigured', (_, v) => delete v.configuration.configuration_data),
        'data.SoftwareConfigured.configuration.configuration_data: expected any JSON value (null included), got nothing',
      ],
      [
        'a policy scope that is lowercase',
        edited('PolicyApplied', (_, v) => (v.policy.scope = 'global')),
        'data.PolicyApplied.policy.scope: expected "Global", {"Resource": "<id>"} or {"Network": "<id>"}, got "global"',
      ],
      [
        'an unknown rule type',
        edited('PolicyApplied', (_, v) => (v.policy.rules[0].rule_type = 'Cost')),
        'data.PolicyApplied.policy.rules[0].rule_type: expected one of "Security", "Access", "Compliance", "Performance", got "Cost"',
      ],
      [
        'a severed connection without a reason',
        edited('ConnectionSevered', (_, v) => delete v.reason),
        'data.ConnectionSevered.reason: expected a string, got nothing',
      ],
      [
        'a domain timestamp that is not RFC 3339',
        edited('NetworkRemoved', (_, v) => (v.timestamp = 1762480014)),
        'data.NetworkRemoved.timestamp: expected an RFC 3339 timestamp like "2025-01-01T00:00:00.123Z", got 1762480014',
      ],
      [
        'a variant that is null',
        edited('NetworkRemoved', (b) => (b.data = { NetworkRemoved: null })),
        'data.NetworkRemoved: expected the NetworkRemoved object, got null',
      ],
      [
        'data that is a string',
        edited('NetworkRemoved', (b) => (b.data = 'NetworkRemoved')),
        'data: expected {"NetworkRemoved": {...}} (serde\'s externally tagged enum), got "NetworkRemoved"',
      ],
      [
        'data with no tag',
        edited('NetworkRemoved', (b) => (b.data = {})),
        'data: expected exactly one key, "NetworkRemoved" (serde\'s externally tagged enum), got none',
      ],
      [
        'an envelope timestamp on a day that does not exist',
        edited('NetworkRemoved', (b) => (b.timestamp = '2025-02-29T00:00:00Z')),
        'envelope field timestamp: expected an RFC 3339 timestamp like "2025-01-01T00:00:00.123Z", got "2025-02-29T00:00:00Z"',
      ],
    ];
    it.each(cases)('rejects %s, naming the field', (_, raw, reason) => {
      expect(rejection(raw)).toBe(reason);
    });
  });
});

describe('connectionId', () => {
  it('joins both ends as from_resource:from_interface--to_resource:to_interface', () => {
    expect(connectionId(makeConnection('web-1', 'eth0', 'sw-1', 'port-7'))).toBe('web-1:eth0--sw-1:port-7');
  });
});

describe('encodeInfrastructureEvent', () => {
  const inputs: { [T in InfrastructureEventType]: InfrastructurePayloadInput<T> } = {} as never;
  for (const type of infrastructureEventTypes) {
    (inputs as Record<string, unknown>)[type] = (() => {
      const { event_id, correlation_id, causation_id, timestamp, ...fields } = JSON.parse(
        crateText(type, fixtures[type].fields),
      ).data[type];
      return { ...fields, event_id, correlation_id, causation_id, timestamp };
    })();
  }

  describe.each(infrastructureEventTypes)('when given the fields and ids of a crate %s', (type) => {
    it('writes exactly the text the crate publishes, on its subject', () => {
      const encoded = encodeInfrastructureEvent(type, inputs[type] as never, {
        eventId: ENVELOPE_ID,
        aggregateId: AGGREGATE_ID,
        correlationId: ENVELOPE_CORRELATION,
        causationId: ENVELOPE_CAUSATION,
        timestamp: APPENDED_AT,
      });
      expect(encoded.subject).toBe(infrastructureSubjects[type]);
      expect(dec.decode(encoded.data)).toBe(crateText(type, fixtures[type].fields));
    });
  });

  describe('when only the variant fields are given', () => {
    const encoded = encodeInfrastructureEvent('ComputeResourceRegistered', {
      resource: makeComputeResource('web-1'),
    });
    const body = JSON.parse(dec.decode(encoded.data));
    const v7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

    it('makes fresh UUID v7 envelope and domain ids, with sequence 1 and null metadata', () => {
      expect(body.event_id).toMatch(v7);
      expect(body.correlation_id).toMatch(v7);
      expect(body.causation_id).toMatch(v7);
      expect(new Set([body.event_id, body.correlation_id, body.causation_id]).size).toBe(3);
      expect(body.aggregate_id).toBe(defaultInfrastructureId);
      expect(body.sequence).toBe(1);
      expect(body.metadata).toBeNull();
      expect(body.data.ComputeResourceRegistered.event_id).toMatch(v7);
      expect(body.data.ComputeResourceRegistered.causation_id).toBeNull();
    });

    it('stamps the envelope and the domain event with the same chrono-style UTC time', () => {
      expect(body.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/);
      expect(body.data.ComputeResourceRegistered.timestamp).toBe(body.timestamp);
    });

    it('externally tags data with the event type', () => {
      expect(Object.keys(body.data)).toEqual(['ComputeResourceRegistered']);
      expect(body.event_type).toBe('ComputeResourceRegistered');
    });
  });

  describe('when ResourceUpdated is given only some update keys', () => {
    it('writes the others as null, as serde does', () => {
      const env = buildInfrastructureEnvelope('ResourceUpdated', {
        resource_id: 'web-1',
        updates: { hostname: 'web-01' } as never,
      });
      expect(env.data.ResourceUpdated.updates).toEqual({
        hostname: 'web-01',
        capabilities: null,
        metadata: null,
      });
    });
  });

  describe('when its output is decoded', () => {
    it.each(infrastructureEventTypes)('gives back the %s it was given', (type) => {
      const e = decodeInfrastructureEvent({
        ...encodeInfrastructureEvent(type, inputs[type] as never),
        seq: 1,
      });
      expect(e.type).toBe(type);
      expect(e.data).toEqual(inputs[type]);
    });
  });
});
