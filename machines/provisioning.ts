/**
 * provisioning: a registered compute resource must get an interface on a network in time
 * (issue 5, saga 2).
 *
 *   idle ──Registered (start `deadline`)──▶ waiting ──InterfaceAdded on a network──▶ ApplyBaselinePolicy ──▶ done
 *                                             ├── `deadline` timeout ──▶ DecommissionResource ──▶ done
 *                                             └── ResourceRemoved ──▶ done (silently)
 *
 * After `done`, a later registration of the same id starts a new instance.
 * Pure: no I/O, no clock, no randomness. Effects are the runtime's named actions (src/define/saga.ts).
 */

import type { InfrastructureEvent } from 'prosa';
import { type SagaTimeoutEvent, sagaActions } from 'prosa';
import { setup } from 'xstate';

export const provisioningMachine = setup({
  types: {
    context: {} as { resourceId: string },
    events: {} as InfrastructureEvent | SagaTimeoutEvent<'deadline'>,
    input: {} as { id: string },
  },
  actions: { ...sagaActions },
  guards: {
    onANetwork: ({ context, event }) =>
      event.type === 'InterfaceAdded' &&
      event.data.interface.resource_id === context.resourceId &&
      event.data.interface.network_id !== null,
  },
}).createMachine({
  id: 'provisioning',
  initial: 'idle',
  context: ({ input }) => ({ resourceId: input.id }),
  states: {
    idle: {
      tags: 'idle',
      on: {
        ComputeResourceRegistered: {
          target: 'waiting',
          actions: { type: 'startTimeout', params: { name: 'deadline' } },
        },
      },
    },
    waiting: {
      on: {
        InterfaceAdded: {
          guard: 'onANetwork',
          target: 'done',
          actions: {
            type: 'emitCommand',
            params: ({ context, event }) => ({
              type: 'ApplyBaselinePolicy',
              aggregateId: context.resourceId,
              data: {
                resource_id: context.resourceId,
                network_id: event.type === 'InterfaceAdded' ? event.data.interface.network_id : null,
              },
            }),
          },
        },
        'prosa.timeout': {
          target: 'done',
          actions: {
            type: 'emitCommand',
            params: ({ context }) => ({
              type: 'DecommissionResource',
              aggregateId: context.resourceId,
              data: { resource_id: context.resourceId, reason: 'provisioning timed out' },
            }),
          },
        },
        ResourceRemoved: { target: 'done' },
      },
    },
    done: { type: 'final' },
  },
});
