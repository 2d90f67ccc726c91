/**
 * decommission — when a compute resource is removed, sever its active connections.
 *
 *   tracking ──ResourceRemoved──▶ severing ──last ConnectionSevered──▶ done
 *      └── (no active connections) ─────────────────────────────────▶ done
 *                                  severing ──timeout `stuck`──▶ ReportStuckDecommission ──▶ done
 *                                  severing ──Registered again──▶ tracking (timeout cancelled, set emptied)
 *
 * One instance per compute resource id (from `data`, never the envelope's aggregate id). A
 * connection belongs to both of its resources. Events that start nothing and find no live instance
 * are ignored. The machine, with every rule, is machines/decommission.ts.
 */

import { type Connection, decodeInfrastructureEvent, defineSaga } from 'prosa';
import { decommissionMachine } from '../machines/decommission.js';

const bothEnds = (c: Connection) => [c.from_resource, c.to_resource];

export default defineSaga({
  name: 'decommission',
  source: {
    stream: 'INFRASTRUCTURE_EVENTS',
    // Only what `correlate` reads: messages on other subjects are passed over undecoded (about two
    // thirds of a typical stream), and bad input there is the topology projection's to dead-letter.
    subjects: [
      'infrastructure.compute.registered',
      'infrastructure.compute.decommissioned',
      'infrastructure.connection.established',
      'infrastructure.connection.severed',
      'infrastructure.network.defined', // NetworkTopologyDefined (beside NetworkDefined)
    ],
  },
  decode: decodeInfrastructureEvent,

  /** The instance(s) an event belongs to: none, one or several. */
  correlate(e) {
    switch (e.type) {
      case 'ComputeResourceRegistered':
        return [e.data.resource.id];
      case 'ResourceRemoved':
        return [e.data.resource_id];
      case 'ResourcesConnected':
      case 'ConnectionSevered':
        return bothEnds(e.data.connection);
      case 'NetworkTopologyDefined':
        return [...new Set(e.data.connections.flatMap(bothEnds))];
      default:
        return [];
    }
  },

  machine: decommissionMachine, // pure: its emitCommand / startTimeout actions are the saga's output
  timeouts: { stuck: '5m' }, // runtime.config.ts (workers.decommission.timeouts), then PROSA_DECOMMISSION_TIMEOUT
  commands: {
    SeverConnection: 'commands.infrastructure.SeverConnection',
    ReportStuckDecommission: 'commands.infrastructure.ReportStuckDecommission',
  },
});
