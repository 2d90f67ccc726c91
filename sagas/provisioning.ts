/**
 * provisioning — a newly registered compute resource must be attached to a network in time.
 *
 *   Registered ──▶ waiting ──InterfaceAdded (network_id set)──▶ ApplyBaselinePolicy ──▶ done
 *                     ├──── timeout `deadline` ──▶ DecommissionResource ──▶ done
 *                     └──── ResourceRemoved ──▶ done (silently, timeout cancelled)
 *
 * One instance per compute resource id; after it finishes, a later registration of the same id
 * starts a new one. The machine is machines/provisioning.ts.
 */

import { decodeInfrastructureEvent, defineSaga } from 'prosa';
import { provisioningMachine } from '../machines/provisioning.js';

export default defineSaga({
  name: 'provisioning',
  source: {
    stream: 'INFRASTRUCTURE_EVENTS',
    // Only what `correlate` reads; other subjects are passed over undecoded.
    subjects: [
      'infrastructure.compute.registered',
      'infrastructure.network.added', // InterfaceAdded
      'infrastructure.compute.decommissioned',
    ],
  },
  decode: decodeInfrastructureEvent,

  correlate(e) {
    switch (e.type) {
      case 'ComputeResourceRegistered':
        return [e.data.resource.id];
      case 'InterfaceAdded':
        return [e.data.interface.resource_id];
      case 'ResourceRemoved':
        return [e.data.resource_id];
      default:
        return [];
    }
  },

  machine: provisioningMachine,
  timeouts: { deadline: '15m' }, // runtime.config.ts (workers.provisioning.timeouts), then PROSA_PROVISIONING_TIMEOUT
  commands: {
    ApplyBaselinePolicy: 'commands.infrastructure.ApplyBaselinePolicy',
    DecommissionResource: 'commands.infrastructure.DecommissionResource',
  },
});
