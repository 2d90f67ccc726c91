/**
 * decommission: when a compute resource is removed, sever its active connections (issue 5, saga 1).
 *
 *   idle ──Registered──▶ tracking ──ResourceRemoved, none active──▶ done
 *                          │  ▲
 *        ResourceRemoved,  │  │ Registered (cancels the timeout, forgets the set)
 *        some active:      ▼  │
 *        SeverConnection × n, start `stuck`
 *                        severing ──last ConnectionSevered──▶ done
 *                          └──── `stuck` timeout: ReportStuckDecommission ──▶ done
 *
 * Pure: no I/O, no clock, no randomness. Effects are the runtime's named actions (src/define/saga.ts).
 */

import {
  type Connection,
  connectionId,
  type InfrastructureEvent,
  type SagaTimeoutEvent,
  sagaActions,
} from 'prosa';
import { assign, enqueueActions, setup } from 'xstate';

export interface DecommissionContext {
  resourceId: string;
  /** Active connections touching the resource, by connection id. */
  active: Record<string, Connection>;
}

const touches = (id: string) => (c: Connection) => c.from_resource === id || c.to_resource === id;

/** The connections an event adds to the resource's active set. */
function connectionsOf(event: InfrastructureEvent, id: string): Connection[] {
  if (event.type === 'ResourcesConnected')
    return touches(id)(event.data.connection) ? [event.data.connection] : [];
  if (event.type === 'NetworkTopologyDefined') return event.data.connections.filter(touches(id));
  return [];
}

const sortedIds = (active: Record<string, Connection>) => Object.keys(active).sort();

export const decommissionMachine = setup({
  types: {
    context: {} as DecommissionContext,
    events: {} as InfrastructureEvent | SagaTimeoutEvent<'stuck'>,
    input: {} as { id: string },
  },
  actions: {
    ...sagaActions,
    forget: assign({ active: () => ({}) }),
    track: assign({
      active: ({ context, event }) => {
        const added = connectionsOf(event as InfrastructureEvent, context.resourceId);
        if (added.length === 0) return context.active;
        const active = { ...context.active };
        for (const c of added) active[connectionId(c)] = c;
        return active;
      },
    }),
    untrack: assign({
      active: ({ context, event }) => {
        if (event.type !== 'ConnectionSevered') return context.active;
        const id = connectionId(event.data.connection);
        if (!(id in context.active)) return context.active;
        const { [id]: _gone, ...rest } = context.active;
        return rest;
      },
    }),
    severAll: enqueueActions(({ context, enqueue }) => {
      for (const id of sortedIds(context.active)) {
        const c = context.active[id] as Connection;
        enqueue({
          type: 'emitCommand',
          params: {
            type: 'SeverConnection',
            aggregateId: context.resourceId,
            data: {
              connection: {
                from_resource: c.from_resource,
                from_interface: c.from_interface,
                to_resource: c.to_resource,
                to_interface: c.to_interface,
              },
              reason: 'resource decommissioned',
            },
          },
        });
      }
    }),
    reportStuck: enqueueActions(({ context, enqueue }) => {
      enqueue({
        type: 'emitCommand',
        params: {
          type: 'ReportStuckDecommission',
          aggregateId: context.resourceId,
          data: { resource_id: context.resourceId, remaining: sortedIds(context.active) },
        },
      });
    }),
  },
  guards: {
    noneActive: ({ context }) => Object.keys(context.active).length === 0,
    lastSevered: ({ context, event }) =>
      event.type === 'ConnectionSevered' &&
      Object.keys(context.active).length === 1 &&
      connectionId(event.data.connection) in context.active,
  },
}).createMachine({
  id: 'decommission',
  initial: 'idle',
  context: ({ input }) => ({ resourceId: input.id, active: {} }),
  states: {
    /** No instance: only a registration starts one. */
    idle: {
      tags: 'idle',
      on: { ComputeResourceRegistered: { target: 'tracking' } },
    },
    tracking: {
      on: {
        ResourcesConnected: { actions: 'track' },
        NetworkTopologyDefined: { actions: 'track' },
        ConnectionSevered: { actions: 'untrack' },
        ResourceRemoved: [
          { guard: 'noneActive', target: 'done' },
          { target: 'severing', actions: ['severAll', { type: 'startTimeout', params: { name: 'stuck' } }] },
        ],
      },
    },
    severing: {
      on: {
        ConnectionSevered: [
          { guard: 'lastSevered', target: 'done', actions: 'untrack' },
          { actions: 'untrack' },
        ],
        'prosa.timeout': { target: 'done', actions: 'reportStuck' },
        ComputeResourceRegistered: {
          target: 'tracking',
          actions: [{ type: 'cancelTimeout', params: { name: 'stuck' } }, 'forget'],
        },
      },
    },
    done: { type: 'final' },
  },
});
