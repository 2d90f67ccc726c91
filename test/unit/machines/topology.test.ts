import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { type AnyStateMachine, createActor } from 'xstate';
import {
  computeResource,
  connection,
  iface,
  NO_ROW,
  network,
  policy,
  software,
} from '../../../machines/topology.js';
import topology from '../../../projections/topology.js';
import {
  decodeInfrastructureEvent,
  encodeInfrastructureEvent,
  type InfrastructureEvent,
  type InfrastructureEventType,
  type InfrastructurePayloadInput,
  makeComputeResource,
  makeConnection,
  makeInterface,
  makeNetwork,
  makePolicy,
  makeSoftwareConfiguration,
} from '../../../src/cim/infrastructure.js';

// Given/when helpers: events go through the wire (encode, then decode) so the machines see what
// the engine gives them. `at` is the envelope timestamp; the domain event's own time is a day
// earlier, so a test sees which of the two reaches last_updated.
let clock = Date.parse('2025-06-01T00:00:00Z');
const tick = () => {
  clock += 1000;
  return new Date(clock).toISOString().replace('.000Z', 'Z');
};

function event<T extends InfrastructureEventType>(
  type: T,
  payload: InfrastructurePayloadInput<T>,
  at = tick(),
): InfrastructureEvent {
  const domainTime = new Date(Date.parse(at) - 86_400_000).toISOString();
  const raw = encodeInfrastructureEvent(type, { timestamp: domainTime, ...payload }, { timestamp: at });
  return decodeInfrastructureEvent({ ...raw, seq: 1 });
}

/** The actor of entity `id` after `events`, as the engine would hold it. */
function after(machine: AnyStateMachine, id: string, ...events: InfrastructureEvent[]) {
  const actor = createActor(machine, { input: { id } });
  actor.start();
  for (const e of events) actor.send(e);
  const snapshot = actor.getSnapshot();
  if (snapshot.status === 'error') throw snapshot.error;
  return snapshot;
}

/** The row the engine would write: the context, or none while tagged no-row. */
function rowAfter(machine: AnyStateMachine, id: string, ...events: InfrastructureEvent[]) {
  const snapshot = after(machine, id, ...events);
  return snapshot.hasTag(NO_ROW) ? null : (snapshot.context as Record<string, unknown>);
}

const registered = (id: string, overrides: Parameters<typeof makeComputeResource>[1] = {}, at?: string) =>
  event('ComputeResourceRegistered', { resource: makeComputeResource(id, overrides) }, at);
const updated = (id: string, updates: Record<string, unknown>, at?: string) =>
  event('ResourceUpdated', { resource_id: id, updates: updates as never }, at);
const removed = (id: string, reason: string, at?: string) =>
  event('ResourceRemoved', { resource_id: id, reason }, at);
const caps = (
  cpu: number | null,
  mem: number | null,
  disk: number | null,
  metadata: Record<string, string> = {},
) => ({
  cpu_cores: cpu,
  memory_mb: mem,
  storage_gb: disk,
  metadata,
});

describe('computeResource machine', () => {
  const web1 = () =>
    registered('web-1', {
      hostname: 'web-1.example.com',
      resource_type: 'VirtualMachine',
      system: 'aarch64-linux',
      capabilities: caps(8, 32768, null, { rack: 'A1', role: 'web' }),
    });

  describe('when nothing has happened to the id', () => {
    it('has no row', () => {
      expect(rowAfter(computeResource, 'web-1')).toBeNull();
    });
  });

  describe('when the resource is registered', () => {
    it('is an active row with the registered fields and metadata = capabilities.metadata', () => {
      const e = web1();
      expect(rowAfter(computeResource, 'web-1', e)).toEqual({
        id: 'web-1',
        hostname: 'web-1.example.com',
        resource_type: 'VirtualMachine',
        system: 'aarch64-linux',
        cpu_cores: 8,
        memory_mb: 32768,
        storage_gb: null,
        metadata: { rack: 'A1', role: 'web' },
        is_active: 1,
        removed_reason: null,
        last_updated: e.timestamp,
      });
    });

    it('takes last_updated from the envelope timestamp, not the domain event time', () => {
      const e = registered('web-1', {}, '2025-07-01T12:00:00.123456789Z');
      expect(e.data.timestamp).not.toBe(e.timestamp);
      expect(rowAfter(computeResource, 'web-1', e)?.last_updated).toBe('2025-07-01T12:00:00.123456789Z');
    });
  });

  describe('when an active resource is registered again', () => {
    it('replaces every field, nulls included', () => {
      const again = registered('web-1', { hostname: 'web-2', capabilities: caps(null, null, 100) });
      expect(rowAfter(computeResource, 'web-1', web1(), again)).toMatchObject({
        hostname: 'web-2',
        resource_type: 'Physical',
        system: 'x86_64-linux',
        cpu_cores: null,
        memory_mb: null,
        storage_gb: 100,
        metadata: {},
        is_active: 1,
        last_updated: again.timestamp,
      });
    });
  });

  describe('when a removed resource is registered again', () => {
    it('is active again and its removed_reason is cleared', () => {
      const again = registered('web-1');
      const row = rowAfter(computeResource, 'web-1', web1(), removed('web-1', 'retired'), again);
      expect(row).toMatchObject({ is_active: 1, removed_reason: null, last_updated: again.timestamp });
    });
  });

  describe('when an update arrives for an id never registered', () => {
    it('has no row', () => {
      expect(rowAfter(computeResource, 'ghost', updated('ghost', { hostname: 'ghost-1' }))).toBeNull();
    });

    it('is forgotten: a later registration is not changed by it', () => {
      const reg = registered('ghost', { hostname: 'ghost-0' });
      const row = rowAfter(computeResource, 'ghost', updated('ghost', { hostname: 'ghost-1' }), reg);
      expect(row).toMatchObject({ hostname: 'ghost-0', last_updated: reg.timestamp });
    });
  });

  describe('when a removal arrives for an id never registered', () => {
    it('has no row', () => {
      expect(rowAfter(computeResource, 'ghost', removed('ghost', 'never existed'))).toBeNull();
    });
  });

  describe('when the resource is updated', () => {
    it('replaces hostname when it is non-null and keeps the rest', () => {
      const u = updated('web-1', { hostname: 'web-01', capabilities: null, metadata: null });
      expect(rowAfter(computeResource, 'web-1', web1(), u)).toMatchObject({
        hostname: 'web-01',
        cpu_cores: 8,
        memory_mb: 32768,
        metadata: { rack: 'A1', role: 'web' },
        last_updated: u.timestamp,
      });
    });

    it('replaces cpu_cores, memory_mb and storage_gb with capabilities, its nulls meaning null', () => {
      const u = updated('web-1', { hostname: null, capabilities: caps(16, null, 500), metadata: null });
      expect(rowAfter(computeResource, 'web-1', web1(), u)).toMatchObject({
        hostname: 'web-1.example.com',
        cpu_cores: 16,
        memory_mb: null,
        storage_gb: 500,
      });
    });

    it('replaces metadata with capabilities.metadata when only capabilities are given', () => {
      const u = updated('web-1', {
        hostname: null,
        capabilities: caps(8, 32768, null, { rack: 'B2' }),
        metadata: null,
      });
      expect(rowAfter(computeResource, 'web-1', web1(), u)?.metadata).toEqual({ rack: 'B2' });
    });

    it('then replaces metadata with updates.metadata when both are given', () => {
      const u = updated('web-1', {
        hostname: null,
        capabilities: caps(8, 32768, null, { rack: 'B2' }),
        metadata: { owner: 'ops' },
      });
      expect(rowAfter(computeResource, 'web-1', web1(), u)?.metadata).toEqual({ owner: 'ops' });
    });

    it('replaces metadata without merging it', () => {
      const u = updated('web-1', { hostname: null, capabilities: null, metadata: { owner: 'ops' } });
      expect(rowAfter(computeResource, 'web-1', web1(), u)?.metadata).toEqual({ owner: 'ops' });
    });

    it('moves only last_updated when all three are null', () => {
      const before = rowAfter(computeResource, 'web-1', web1());
      const u = updated('web-1', { hostname: null, capabilities: null, metadata: null });
      const row = rowAfter(computeResource, 'web-1', web1(), u);
      expect(row).toEqual({ ...before, last_updated: u.timestamp });
    });

    it('reads update keys missing on the wire as null', () => {
      const u = updated('web-1', {});
      expect(rowAfter(computeResource, 'web-1', web1(), u)).toMatchObject({
        hostname: 'web-1.example.com',
        cpu_cores: 8,
        metadata: { rack: 'A1', role: 'web' },
        last_updated: u.timestamp,
      });
    });
  });

  describe('when the resource is removed', () => {
    it('is inactive with the reason and the removal time, other fields kept', () => {
      const r = removed('web-1', 'hardware failure');
      expect(rowAfter(computeResource, 'web-1', web1(), r)).toMatchObject({
        hostname: 'web-1.example.com',
        cpu_cores: 8,
        is_active: 0,
        removed_reason: 'hardware failure',
        last_updated: r.timestamp,
      });
    });

    it('takes the reason and time of a second removal', () => {
      const second = removed('web-1', 'really gone');
      expect(rowAfter(computeResource, 'web-1', web1(), removed('web-1', 'retired'), second)).toMatchObject({
        is_active: 0,
        removed_reason: 'really gone',
        last_updated: second.timestamp,
      });
    });
  });

  describe('when a removed resource is updated', () => {
    it('changes the fields and stays inactive with its reason', () => {
      const u = updated('web-1', { hostname: 'web-x' });
      expect(rowAfter(computeResource, 'web-1', web1(), removed('web-1', 'retired'), u)).toMatchObject({
        hostname: 'web-x',
        is_active: 0,
        removed_reason: 'retired',
        last_updated: u.timestamp,
      });
    });
  });

  describe('when it is passivated and restored from its persisted snapshot', () => {
    it('has the same row and goes on from it', () => {
      const first = createActor(computeResource, { input: { id: 'web-1' } }).start();
      first.send(web1());
      first.send(removed('web-1', 'retired'));
      const persisted = JSON.parse(JSON.stringify(first.getPersistedSnapshot()));
      const restored = createActor(computeResource, { input: { id: 'web-1' }, snapshot: persisted }).start();
      expect(restored.getSnapshot().context).toEqual(first.getSnapshot().context);
      const again = registered('web-1');
      restored.send(again);
      expect(restored.getSnapshot().context).toMatchObject({ is_active: 1, removed_reason: null });
    });
  });
});

describe('iface machine', () => {
  describe('when nothing has happened to the id', () => {
    it('has no row', () => {
      expect(rowAfter(iface, 'web-1.eth0')).toBeNull();
    });
  });

  describe('when the interface is added', () => {
    it('is a row with its resource, network and addresses', () => {
      const e = event('InterfaceAdded', {
        interface: makeInterface('web-1.eth0', 'web-1', {
          network_id: 'lan',
          addresses: ['10.0.1.5', 'fe80::1'],
        }),
      });
      expect(rowAfter(iface, 'web-1.eth0', e)).toEqual({
        id: 'web-1.eth0',
        resource_id: 'web-1',
        network_id: 'lan',
        addresses: ['10.0.1.5', 'fe80::1'],
      });
    });
  });

  describe('when the interface is added again', () => {
    it('replaces the row', () => {
      const first = event('InterfaceAdded', {
        interface: makeInterface('if-1', 'web-1', { network_id: 'lan' }),
      });
      const second = event('InterfaceAdded', {
        interface: makeInterface('if-1', 'web-2', { addresses: ['::1'] }),
      });
      expect(rowAfter(iface, 'if-1', first, second)).toEqual({
        id: 'if-1',
        resource_id: 'web-2',
        network_id: null,
        addresses: ['::1'],
      });
    });
  });
});

describe('network machine', () => {
  const v4 = { address: '10.0.1.0', prefix_len: 24 };
  const v6 = { address: '2001:db8::', prefix_len: 32 };
  const defined = (id: string, overrides: Parameters<typeof makeNetwork>[1] = {}) =>
    event('NetworkDefined', { network: makeNetwork(id, overrides) });
  const topologyOf = (
    networks: ReturnType<typeof makeNetwork>[],
    connections: ReturnType<typeof makeConnection>[] = [],
  ) =>
    event('NetworkTopologyDefined', {
      topology_id: '0190e000-0000-7000-8000-000000000001',
      networks,
      connections,
    });
  const networkRemoved = (id: string) => event('NetworkRemoved', { network_id: id, reason: 'merged' });

  describe('when nothing has happened to the id', () => {
    it('has no row', () => {
      expect(rowAfter(network, 'lan')).toBeNull();
    });
  });

  describe('when the network is defined', () => {
    it('is an active row with its name, type, CIDRs as text and the envelope time', () => {
      const e = defined('lan', { name: 'LAN', cidr_v4: v4 });
      expect(rowAfter(network, 'lan', e)).toEqual({
        id: 'lan',
        name: 'LAN',
        network_type: 'IPv4',
        cidr_v4: '10.0.1.0/24',
        cidr_v6: null,
        is_active: 1,
        last_updated: e.timestamp,
      });
    });

    it.each([
      ['IPv4', v4, null, '10.0.1.0/24', null],
      ['IPv6', null, v6, null, '2001:db8::/32'],
      ['DualStack', v4, v6, '10.0.1.0/24', '2001:db8::/32'],
      ['Unknown', null, null, null, null],
    ] as const)('is typed %s by which CIDRs it has', (type, cidr_v4, cidr_v6, text4, text6) => {
      expect(rowAfter(network, 'n', defined('n', { cidr_v4, cidr_v6 }))).toMatchObject({
        network_type: type,
        cidr_v4: text4,
        cidr_v6: text6,
      });
    });
  });

  describe('when a topology lists the network', () => {
    it('upserts it as active', () => {
      const t = topologyOf([makeNetwork('wan', { cidr_v6: v6 }), makeNetwork('lan', { cidr_v4: v4 })]);
      expect(rowAfter(network, 'lan', t)).toMatchObject({
        network_type: 'IPv4',
        is_active: 1,
        last_updated: t.timestamp,
      });
    });

    it('applies the last listing when it is listed twice', () => {
      const t = topologyOf([
        makeNetwork('lan', { name: 'first' }),
        makeNetwork('lan', { name: 'second', cidr_v6: v6 }),
      ]);
      expect(rowAfter(network, 'lan', t)).toMatchObject({ name: 'second', network_type: 'IPv6' });
    });

    it('re-activates a removed network', () => {
      const t = topologyOf([makeNetwork('lan')]);
      expect(rowAfter(network, 'lan', defined('lan'), networkRemoved('lan'), t)).toMatchObject({
        is_active: 1,
        last_updated: t.timestamp,
      });
    });
  });

  describe('when a topology that does not list the network reaches it', () => {
    it('changes nothing', () => {
      expect(rowAfter(network, 'lan', topologyOf([makeNetwork('wan')]))).toBeNull();
      const d = defined('lan');
      expect(rowAfter(network, 'lan', d, topologyOf([makeNetwork('wan')]))?.last_updated).toBe(d.timestamp);
    });
  });

  describe('when the network is removed', () => {
    it('is inactive with the removal time, other fields kept', () => {
      const r = networkRemoved('lan');
      expect(rowAfter(network, 'lan', defined('lan', { name: 'LAN', cidr_v4: v4 }), r)).toMatchObject({
        name: 'LAN',
        cidr_v4: '10.0.1.0/24',
        is_active: 0,
        last_updated: r.timestamp,
      });
    });

    it('moves last_updated on a second removal', () => {
      const second = networkRemoved('lan');
      expect(rowAfter(network, 'lan', defined('lan'), networkRemoved('lan'), second)?.last_updated).toBe(
        second.timestamp,
      );
    });
  });

  describe('when an unknown network is removed', () => {
    it('has no row', () => {
      expect(rowAfter(network, 'ghost', networkRemoved('ghost'))).toBeNull();
    });
  });

  describe('when a removed network is defined again', () => {
    it('is active again', () => {
      expect(rowAfter(network, 'lan', defined('lan'), networkRemoved('lan'), defined('lan'))?.is_active).toBe(
        1,
      );
    });
  });
});

describe('connection machine', () => {
  const cable = makeConnection('web-1', 'eth0', 'sw-1', 'port-7');
  const id = 'web-1:eth0--sw-1:port-7';
  const connected = (c = cable) => event('ResourcesConnected', { connection: c });
  const severed = (c = cable) => event('ConnectionSevered', { connection: c, reason: 'cable pulled' });
  const topologyOf = (...connections: ReturnType<typeof makeConnection>[]) =>
    event('NetworkTopologyDefined', {
      topology_id: '0190e000-0000-7000-8000-000000000001',
      networks: [],
      connections,
    });

  describe('when nothing has happened to the id', () => {
    it('has no row', () => {
      expect(rowAfter(connection, id)).toBeNull();
    });
  });

  describe('when the resources are connected', () => {
    it('is an active Physical row with both ends', () => {
      const e = connected();
      expect(rowAfter(connection, id, e)).toEqual({
        id,
        source_id: 'web-1',
        source_interface: 'eth0',
        target_id: 'sw-1',
        target_interface: 'port-7',
        connection_type: 'Physical',
        is_active: 1,
        last_updated: e.timestamp,
      });
    });
  });

  describe('when a topology lists the connection', () => {
    it('upserts it as active', () => {
      const t = topologyOf(makeConnection('a', 'x', 'b', 'y'), cable);
      expect(rowAfter(connection, id, t)).toMatchObject({
        source_id: 'web-1',
        is_active: 1,
        last_updated: t.timestamp,
      });
    });

    it('re-activates a severed connection', () => {
      const t = topologyOf(cable);
      expect(rowAfter(connection, id, connected(), severed(), t)).toMatchObject({
        is_active: 1,
        last_updated: t.timestamp,
      });
    });
  });

  describe('when a topology that does not list the connection reaches it', () => {
    it('changes nothing', () => {
      expect(rowAfter(connection, id, topologyOf(makeConnection('a', 'x', 'b', 'y')))).toBeNull();
    });
  });

  describe('when the connection is severed', () => {
    it('is inactive with the severing time, its ends kept', () => {
      const s = severed();
      expect(rowAfter(connection, id, connected(), s)).toMatchObject({
        source_id: 'web-1',
        target_id: 'sw-1',
        is_active: 0,
        last_updated: s.timestamp,
      });
    });

    it('moves last_updated on a second severing', () => {
      const second = severed();
      expect(rowAfter(connection, id, connected(), severed(), second)?.last_updated).toBe(second.timestamp);
    });
  });

  describe('when an unknown connection is severed', () => {
    it('has no row', () => {
      expect(rowAfter(connection, id, severed())).toBeNull();
    });
  });

  describe('when a severed connection is connected again', () => {
    it('is active again', () => {
      expect(rowAfter(connection, id, connected(), severed(), connected())?.is_active).toBe(1);
    });
  });
});

describe('software machine', () => {
  const configId = '0190c000-0000-7000-8000-000000000001';
  const configured = (overrides: Parameters<typeof makeSoftwareConfiguration>[2] = {}) =>
    event('SoftwareConfigured', { configuration: makeSoftwareConfiguration(configId, 'web-1', overrides) });

  describe('when nothing has happened to the id', () => {
    it('has no row', () => {
      expect(rowAfter(software, configId)).toBeNull();
    });
  });

  describe('when software is configured', () => {
    it('is a row with the software, its configuration as JSON text and its dependencies', () => {
      const e = configured({
        software: { id: 'nginx', name: 'nginx', version: '1.26.0', derivation_path: null },
        configuration_data: { worker_processes: 4, listen: [80, 443] },
        dependencies: ['openssl'],
      });
      expect(rowAfter(software, configId, e)).toEqual({
        id: configId,
        resource_id: 'web-1',
        software_id: 'nginx',
        name: 'nginx',
        version: '1.26.0',
        configuration: '{"worker_processes":4,"listen":[80,443]}',
        dependencies: ['openssl'],
      });
    });

    it.each([
      ['a string', 'listen 80;', '"listen 80;"'],
      ['a boolean', true, 'true'],
      ['null', null, 'null'],
      ['a number', 4, '4'],
    ])('writes configuration_data that is %s as its JSON text', (_, data, text) => {
      expect(rowAfter(software, configId, configured({ configuration_data: data }))?.configuration).toBe(
        text,
      );
    });
  });

  describe('when it is configured again', () => {
    it('replaces the row', () => {
      const second = configured({
        resource_id: 'web-2',
        software: { id: 'nginx', name: 'nginx', version: '1.27.0', derivation_path: null },
      });
      expect(rowAfter(software, configId, configured(), second)).toMatchObject({
        resource_id: 'web-2',
        version: '1.27.0',
      });
    });
  });
});

describe('policy machine', () => {
  const policyId = '0190d000-0000-7000-8000-000000000001';
  const applied = (overrides: Parameters<typeof makePolicy>[1] = {}) =>
    event('PolicyApplied', { policy: makePolicy(policyId, overrides) });

  describe('when nothing has happened to the id', () => {
    it('has no row', () => {
      expect(rowAfter(policy, policyId)).toBeNull();
    });
  });

  describe('when a policy is applied', () => {
    it('is a row with its name, scope text and rules', () => {
      const rules = [{ rule_type: 'Security' as const, condition: 'port == 22', action: 'deny' }];
      expect(rowAfter(policy, policyId, applied({ name: 'ssh-lockdown', rules }))).toEqual({
        id: policyId,
        name: 'ssh-lockdown',
        scope: 'global',
        rules,
      });
    });

    it.each([
      ['Global', 'global'],
      [{ Resource: 'web-1' }, 'resource:web-1'],
      [{ Network: 'lan' }, 'network:lan'],
    ] as const)('writes scope %j as %s', (scope, text) => {
      expect(rowAfter(policy, policyId, applied({ scope }))?.scope).toBe(text);
    });
  });

  describe('when a rule carries fields the contract does not name', () => {
    it('stores only rule_type, condition and action', () => {
      const rules = [{ rule_type: 'Access' as const, condition: 'always', action: 'allow', priority: 7 }];
      expect(rowAfter(policy, policyId, applied({ rules }))?.rules).toEqual([
        { rule_type: 'Access', condition: 'always', action: 'allow' },
      ]);
    });
  });

  describe('when it is applied again', () => {
    it('replaces the row', () => {
      const row = rowAfter(
        policy,
        policyId,
        applied({ name: 'v1' }),
        applied({ name: 'v2', scope: { Network: 'lan' } }),
      );
      expect(row).toMatchObject({ name: 'v2', scope: 'network:lan' });
    });
  });
});

describe('topology projection', () => {
  describe('when an event concerns one entity', () => {
    it.each([
      [registered('web-1'), [['resource', 'web-1']]],
      [updated('web-1', {}), [['resource', 'web-1']]],
      [removed('web-1', 'x'), [['resource', 'web-1']]],
      [event('InterfaceAdded', { interface: makeInterface('if-1', 'web-1') }), [['interface', 'if-1']]],
      [event('NetworkDefined', { network: makeNetwork('lan') }), [['network', 'lan']]],
      [event('NetworkRemoved', { network_id: 'lan', reason: 'x' }), [['network', 'lan']]],
      [
        event('ResourcesConnected', { connection: makeConnection('a', 'x', 'b', 'y') }),
        [['connection', 'a:x--b:y']],
      ],
      [
        event('ConnectionSevered', { connection: makeConnection('a', 'x', 'b', 'y'), reason: 'x' }),
        [['connection', 'a:x--b:y']],
      ],
    ])('keys %# by its entity id', (e, keys) => {
      expect(topology.keys(e)).toEqual(keys);
    });

    it('keys software and policies by their uuids', () => {
      const c = makeSoftwareConfiguration('0190c000-0000-7000-8000-000000000001', 'web-1');
      const p = makePolicy('0190d000-0000-7000-8000-000000000001');
      expect(topology.keys(event('SoftwareConfigured', { configuration: c }))).toEqual([['software', c.id]]);
      expect(topology.keys(event('PolicyApplied', { policy: p }))).toEqual([['policy', p.id]]);
    });
  });

  describe('when a topology lists networks and connections, some twice', () => {
    it('keys each network and each connection once, in order', () => {
      const e = event('NetworkTopologyDefined', {
        topology_id: '0190e000-0000-7000-8000-000000000001',
        networks: [makeNetwork('lan'), makeNetwork('wan'), makeNetwork('lan')],
        connections: [makeConnection('a', 'x', 'b', 'y'), makeConnection('a', 'x', 'b', 'y')],
      });
      expect(topology.keys(e)).toEqual([
        ['network', 'lan'],
        ['network', 'wan'],
        ['connection', 'a:x--b:y'],
      ]);
    });
  });

  describe('when its migrations run on an empty database', () => {
    const db = new Database(':memory:');
    for (const sql of topology.schema.migrations) db.exec(sql);
    const columns = (table: string) =>
      (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name).sort();
    const initialContext = (machine: AnyStateMachine) =>
      Object.keys(createActor(machine, { input: { id: 'x' } }).getSnapshot().context).sort();

    it.each(Object.entries(topology.entities))(
      'gives the %s table exactly the columns of its machine context',
      (_, e) => {
        expect(columns(e.table)).toEqual(initialContext(e.machine));
      },
    );

    it('creates the three views of what is active', () => {
      const views = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name")
        .pluck()
        .all();
      expect(views).toEqual(['active_compute_resources', 'active_connections', 'active_networks']);
    });
  });
});
