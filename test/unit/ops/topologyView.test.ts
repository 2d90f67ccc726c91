import { describe, expect, it } from 'vitest';
import topology from '../../../projections/topology.js';
import {
  type EncodedEvent,
  encodeInfrastructureEvent,
  makeComputeResource,
  makeConnection,
  makeInterface,
  makeNetwork,
  makePolicy,
  makeSoftwareConfiguration,
} from '../../../src/cim/infrastructure.js';
import { ProsaError } from '../../../src/errors.js';
import { formatTopology, readTopologyView, type TopologyView } from '../../../src/ops/topologyView.js';
import { openDatabase } from '../../../src/store/database.js';
import { cleanReplay } from '../../../src/testkit/replay.js';

/** The read model the real engine builds from these events, in this order. */
const modelOf = (...events: EncodedEvent[]) =>
  cleanReplay(
    topology,
    events.map((e, i) => ({ ...e, seq: i + 1 })),
  ).db;

const registered = (id: string, overrides: Parameters<typeof makeComputeResource>[1] = {}) =>
  encodeInfrastructureEvent('ComputeResourceRegistered', { resource: makeComputeResource(id, overrides) });
const onNetwork = (id: string, resource: string, network: string, addresses: string[] = []) =>
  encodeInfrastructureEvent('InterfaceAdded', {
    interface: makeInterface(id, resource, { network_id: network, addresses }),
  });
const connected = (from: string, fromIf: string, to: string, toIf: string) =>
  encodeInfrastructureEvent('ResourcesConnected', { connection: makeConnection(from, fromIf, to, toIf) });

/**
 * A small data centre: web-1 and db-1 on net-a, cabled together; old-1 decommissioned but still
 * cabled to web-1 (a removal leaves connections as they are); net-b removed; one severed link.
 */
const smallModel = () =>
  modelOf(
    encodeInfrastructureEvent('NetworkDefined', {
      network: makeNetwork('net-a', {
        name: 'lan',
        cidr_v4: { address: '10.0.0.0', prefix_len: 24 },
        cidr_v6: { address: 'fd00::', prefix_len: 64 },
      }),
    }),
    encodeInfrastructureEvent('NetworkDefined', { network: makeNetwork('net-b') }),
    encodeInfrastructureEvent('NetworkRemoved', { network_id: 'net-b', reason: 'unused' }),
    registered('web-1', { hostname: 'web-1.example.net' }),
    registered('db-1', {
      hostname: 'db-1.example.net',
      resource_type: 'VirtualMachine',
      system: 'aarch64-linux',
    }),
    registered('old-1'),
    onNetwork('web-1-eth0', 'web-1', 'net-a', ['10.0.0.2', 'fd00::2']),
    onNetwork('web-1-eth1', 'web-1', 'net-a', ['10.0.0.3']),
    onNetwork('db-1-eth0', 'db-1', 'net-a', ['10.0.0.4']),
    onNetwork('old-1-eth0', 'old-1', 'net-a'),
    connected('web-1', 'web-1-eth0', 'db-1', 'db-1-eth0'),
    connected('web-1', 'web-1-eth1', 'old-1', 'old-1-eth0'),
    connected('db-1', 'db-1-eth1', 'web-1', 'web-1-eth2'),
    encodeInfrastructureEvent('ConnectionSevered', {
      connection: makeConnection('db-1', 'db-1-eth1', 'web-1', 'web-1-eth2'),
      reason: 'cable pulled',
    }),
    encodeInfrastructureEvent('ResourceRemoved', { resource_id: 'old-1', reason: 'retired' }),
    encodeInfrastructureEvent('SoftwareConfigured', {
      configuration: makeSoftwareConfiguration('0190a6f0-0000-7000-8000-0000000000c1', 'web-1'),
    }),
    encodeInfrastructureEvent('PolicyApplied', {
      policy: makePolicy('0190a6f0-0000-7000-8000-0000000000d1'),
    }),
  );

describe('topology view', () => {
  describe('when the model has active and inactive resources, networks and connections', () => {
    const view = readTopologyView(smallModel());

    it('counts every table and its active rows, and lists only what is active', () => {
      expect(view).toEqual({
        counts: {
          computeResources: { total: 3, active: 2 },
          interfaces: { total: 4 },
          networks: { total: 2, active: 1 },
          connections: { total: 3, active: 2 },
          softwareConfigurations: { total: 1 },
          policies: { total: 1 },
        },
        resources: [
          { id: 'db-1', hostname: 'db-1.example.net', type: 'VirtualMachine', system: 'aarch64-linux' },
          { id: 'web-1', hostname: 'web-1.example.net', type: 'Physical', system: 'x86_64-linux' },
        ],
        networks: [
          { id: 'net-a', name: 'lan', type: 'DualStack', cidrV4: '10.0.0.0/24', cidrV6: 'fd00::/64' },
        ],
        connections: [
          {
            id: 'web-1:web-1-eth0--db-1:db-1-eth0',
            source: 'web-1',
            sourceInterface: 'web-1-eth0',
            target: 'db-1',
            targetInterface: 'db-1-eth0',
          },
          {
            id: 'web-1:web-1-eth1--old-1:old-1-eth0',
            source: 'web-1',
            sourceInterface: 'web-1-eth1',
            target: 'old-1',
            targetInterface: 'old-1-eth0',
          },
        ],
        attachments: [
          { resource: 'db-1', interface: 'db-1-eth0', network: 'net-a', addresses: ['10.0.0.4'] },
          {
            resource: 'web-1',
            interface: 'web-1-eth0',
            network: 'net-a',
            addresses: ['10.0.0.2', 'fd00::2'],
          },
          { resource: 'web-1', interface: 'web-1-eth1', network: 'net-a', addresses: ['10.0.0.3'] },
        ],
      } satisfies TopologyView);
    });

    it('prints a table with the counts and one section per kind', () => {
      expect(formatTopology(view, 'table')).toBe(TABLE);
    });

    it('prints the view as indented JSON', () => {
      const text = formatTopology(view, 'json');
      expect(text.endsWith('}\n')).toBe(true);
      expect(JSON.parse(text)).toEqual(view);
    });

    it('draws a Mermaid graph: resources, networks, connections, attachments once per pair, ends not active dashed', () => {
      expect(formatTopology(view, 'mermaid')).toBe(MERMAID);
    });

    it('draws the same graph for Graphviz', () => {
      expect(formatTopology(view, 'dot')).toBe(DOT);
    });
  });

  describe('when ids and labels hold syntax of the output formats', () => {
    const view = readTopologyView(
      modelOf(
        encodeInfrastructureEvent('NetworkDefined', {
          network: makeNetwork('__proto__', { name: 'a "quoted" \\ net' }),
        }),
        registered('edge:1', { hostname: 'say "hi" <b>#1</b> | `x` & more' }),
        registered('__proto__', { hostname: 'höst-β 東京' }),
        registered('constructor', { hostname: 'evil\nrow\u202e' }),
        onNetwork('edge:1-eth0', 'edge:1', '__proto__'),
        connected('edge:1', 'p"1', '__proto__', 'end'),
      ),
    );

    it('escapes Mermaid labels with entity codes and never uses an id as a node id', () => {
      expect(formatTopology(view, 'mermaid')).toBe(
        [
          'graph LR',
          '  r0["höst-β 東京<br/>Physical"]',
          '  r1["evil row\u202e<br/>Physical"]',
          '  r2["say #quot;hi#quot; #lt;b#gt;#35;1#lt;/b#gt; #124; #96;x#96; #amp; more<br/>Physical"]',
          '  n0{{"a #quot;quoted#quot; \\ net<br/>Unknown"}}',
          '  r2 ---|"p#quot;1 ↔ end"| r0',
          '  r2 -.- n0',
          '',
        ].join('\n'),
      );
    });

    it('quotes Graphviz ids and labels, escaping backslashes and quotes', () => {
      expect(formatTopology(view, 'dot')).toBe(
        [
          'graph topology {',
          '  rankdir=LR;',
          '  node [shape=box];',
          '  "resource:__proto__" [label="höst-β 東京\\nPhysical"];',
          '  "resource:constructor" [label="evil row\u202e\\nPhysical"];',
          '  "resource:edge:1" [label="say \\"hi\\" <b>#1</b> | `x` & more\\nPhysical"];',
          '  "network:__proto__" [shape=hexagon, label="a \\"quoted\\" \\\\ net\\nUnknown"];',
          '  "resource:edge:1" -- "resource:__proto__" [label="p\\"1 ↔ end"];',
          '  "resource:edge:1" -- "network:__proto__" [style=dotted];',
          '}',
          '',
        ].join('\n'),
      );
    });

    it('shows control characters escaped in the table and aligns wide characters', () => {
      const table = formatTopology(view, 'table');
      expect(table).toContain(
        [
          'Active compute resources (3)',
          '  ID           HOSTNAME                         TYPE      SYSTEM',
          '  __proto__    höst-β 東京                      Physical  x86_64-linux',
          '  constructor  evil\\u000arow\\u202e              Physical  x86_64-linux',
          '  edge:1       say "hi" <b>#1</b> | `x` & more  Physical  x86_64-linux',
        ].join('\n'),
      );
    });
  });

  describe('when the model is empty', () => {
    const view = readTopologyView(modelOf());

    it('prints zero counts and says there is nothing active', () => {
      expect(formatTopology(view, 'table')).toContain('Active networks (0)\n  (none)\n');
      expect(view.counts.computeResources).toEqual({ total: 0, active: 0 });
    });

    it('draws an empty graph', () => {
      expect(formatTopology(view, 'mermaid')).toBe('graph LR\n');
      expect(formatTopology(view, 'dot')).toBe('graph topology {\n  rankdir=LR;\n  node [shape=box];\n}\n');
    });
  });

  describe('when the database has no topology read model', () => {
    it('throws PROSA_SQLITE saying to run the worker first', () => {
      const db = openDatabase(':memory:');
      expect(() => readTopologyView(db)).toThrow(ProsaError);
      expect(() => readTopologyView(db)).toThrow(
        /holds no topology read model \(missing compute_resources, .*\); run the worker with the topology projection first/,
      );
    });
  });
});

const TABLE = `Topology
  compute resources        2 active of 3
  interfaces               4
  networks                 1 active of 2
  connections              2 active of 3
  software configurations  1
  policies                 1

Active compute resources (2)
  ID     HOSTNAME           TYPE            SYSTEM
  db-1   db-1.example.net   VirtualMachine  aarch64-linux
  web-1  web-1.example.net  Physical        x86_64-linux

Active networks (1)
  ID     NAME  TYPE       IPV4         IPV6
  net-a  lan   DualStack  10.0.0.0/24  fd00::/64

Active connections (2)
  FROM   INTERFACE   TO     INTERFACE
  web-1  web-1-eth0  db-1   db-1-eth0
  web-1  web-1-eth1  old-1  old-1-eth0
`;

const MERMAID = `graph LR
  r0["db-1.example.net<br/>VirtualMachine"]
  r1["web-1.example.net<br/>Physical"]
  u0["old-1<br/>(not active)"]
  n0{{"lan<br/>DualStack 10.0.0.0/24, fd00::/64"}}
  r1 ---|"web-1-eth0 ↔ db-1-eth0"| r0
  r1 ---|"web-1-eth1 ↔ old-1-eth0"| u0
  r0 -.- n0
  r1 -.- n0
  classDef inactive stroke-dasharray: 4 4,color:#888
  class u0 inactive
`;

const DOT = `graph topology {
  rankdir=LR;
  node [shape=box];
  "resource:db-1" [label="db-1.example.net\\nVirtualMachine"];
  "resource:web-1" [label="web-1.example.net\\nPhysical"];
  "resource:old-1" [label="old-1\\n(not active)", style=dashed];
  "network:net-a" [shape=hexagon, label="lan\\nDualStack 10.0.0.0/24, fd00::/64"];
  "resource:web-1" -- "resource:db-1" [label="web-1-eth0 ↔ db-1-eth0"];
  "resource:web-1" -- "resource:old-1" [label="web-1-eth1 ↔ old-1-eth0"];
  "resource:db-1" -- "network:net-a" [style=dotted];
  "resource:web-1" -- "network:net-a" [style=dotted];
}
`;
