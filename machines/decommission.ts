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
  /**
   * Active connections touching the resource, in the order they became active. A list, not a map
   * by id: a hot resource has hundreds, and each event copies the set (contexts are immutable);
   * copying an array is a fraction of copying an object with as many keys, and it stores smaller.
   */
  active: Connection[];
}

const touches = (id: string) => (c: Connection) => c.from_resource === id || c.to_resource === id;
const same = (a: Connection, b: Connection) =>
  a.from_resource === b.from_resource &&
  a.from_interface === b.from_interface &&
  a.to_resource === b.to_resource &&
  a.to_interface === b.to_interface;

/** The connections an event adds to the resource's active set. */
function connectionsOf(event: InfrastructureEvent, id: string): Connection[] {
  if (event.type === 'ResourcesConnected')
    return touches(id)(event.data.connection) ? [event.data.connection] : [];
  if (event.type === 'NetworkTopologyDefined') return event.data.connections.filter(touches(id));
  return [];
}

/**
 * The active set as a list. Instances saved by prosa 0.1 hold a map by connection id; they are
 * read as its values and written back as a list at their next change.
 */
const listOf = (active: Connection[] | Record<string, Connection>): Connection[] =>
  Array.isArray(active) ? active : Object.values(active);

/** The active connections in connection-id order (the order commands and reports list them). */
const sorted = (active: Connection[]) =>
  listOf(active)
    .map((c) => [connectionId(c), c] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

export const decommissionMachine = setup({
  types: {
    context: {} as DecommissionContext,
    events: {} as InfrastructureEvent | SagaTimeoutEvent<'stuck'>,
    input: {} as { id: string },
  },
  actions: {
    ...sagaActions,
    forget: assign({ active: () => [] }),
    track: assign({
      active: ({ context, event }) => {
        const active = listOf(context.active);
        const added: Connection[] = [];
        for (const c of connectionsOf(event as InfrastructureEvent, context.resourceId))
          if (!active.some((a) => same(a, c)) && !added.some((a) => same(a, c))) added.push(c);
        return added.length === 0 ? active : [...active, ...added];
      },
    }),
    untrack: assign({
      active: ({ context, event }) => {
        const active = listOf(context.active);
        if (event.type !== 'ConnectionSevered') return active;
        const gone = event.data.connection;
        return active.some((a) => same(a, gone)) ? active.filter((a) => !same(a, gone)) : active;
      },
    }),
    severAll: enqueueActions(({ context, enqueue }) => {
      for (const [, c] of sorted(context.active)) {
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
          data: { resource_id: context.resourceId, remaining: sorted(context.active).map(([id]) => id) },
        },
      });
    }),
  },
  guards: {
    noneActive: ({ context }) => listOf(context.active).length === 0,
    lastSevered: ({ context, event }) => {
      const active = listOf(context.active);
      return (
        event.type === 'ConnectionSevered' &&
        active.length === 1 &&
        same(active[0] as Connection, event.data.connection)
      );
    },
  },
}).createMachine({
  id: 'decommission',
  initial: 'idle',
  context: ({ input }) => ({ resourceId: input.id, active: [] }),
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
