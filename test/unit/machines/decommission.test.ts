import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { decommissionMachine } from '../../../machines/decommission.js';
import decommission from '../../../sagas/decommission.js';
import { type EmitCommandParams, withEffectSink } from '../../../src/define/saga.js';
import { sagaScenario } from '../../../src/testkit/sagaScenario.js';
import {
  connected,
  linkId,
  registered,
  removed,
  reportStuck,
  severConnection,
  severed,
  topologyDefined,
} from '../../support/infrastructureEvents.js';

const scenario = () => sagaScenario(decommission);

describe('decommission saga', () => {
  describe('when a resource with two active connections is removed', () => {
    it('emits one SeverConnection per connection and waits with a 5 minute timeout', () =>
      scenario()
        .given(registered('r1'), connected('r1', 'r2'), connected('r3', 'r1'))
        .when(removed('r1'))
        .expectCommands([severConnection('r1', 'r1', 'r2'), severConnection('r1', 'r3', 'r1')])
        .expectActive('r1')
        .expectTimeouts('r1', { stuck: '5m' }));

    it('finishes without a report once both are severed, and the timeout is cancelled', () =>
      scenario()
        .given(registered('r1'), connected('r1', 'r2'), connected('r3', 'r1'), removed('r1'))
        .when(severed('r1', 'r2'), severed('r3', 'r1'))
        .advance('10m')
        .expectCommands([])
        .expectFinished('r1'));

    it('reports the connections still active after the timeout, sorted, then finishes', () =>
      scenario()
        .given(registered('r1'), connected('r1', 'r2'), connected('r1', 'r0'), connected('r1', 'r3'))
        .when(removed('r1'), severed('r1', 'r2'))
        .advance('5m')
        .expectCommands([
          severConnection('r1', 'r1', 'r0'),
          severConnection('r1', 'r1', 'r2'),
          severConnection('r1', 'r1', 'r3'),
          reportStuck('r1', [linkId('r1', 'r0'), linkId('r1', 'r3')]),
        ])
        .expectFinished('r1'));
  });

  describe('when a resource with no connections is removed', () => {
    it('finishes without a command', () =>
      scenario().given(registered('r1')).when(removed('r1')).expectCommands([]).expectFinished('r1'));
  });

  describe('when connections come and go while tracking', () => {
    it('severs only the ones still active, including those of a topology', () =>
      scenario()
        .given(
          registered('r1'),
          topologyDefined(['r1', 'r2'], ['r2', 'r3'], ['r4', 'r1']),
          connected('r1', 'r5'),
          severed('r1', 'r2'),
        )
        .when(removed('r1'))
        .expectCommands([severConnection('r1', 'r1', 'r5'), severConnection('r1', 'r4', 'r1')]));
  });

  describe('when the resource is registered again while severing', () => {
    it('cancels the timeout, emits nothing, and tracks again from an empty set', () =>
      scenario()
        .given(registered('r1'), connected('r1', 'r2'), removed('r1'))
        .when(registered('r1'))
        .advance('10m')
        .expectCommands([])
        .expectActive('r1')
        .expectTimeouts('r1', {})
        .when(removed('r1'))
        .expectFinished('r1'));
  });

  describe('when events concern a resource never registered', () => {
    it('ignores them and keeps no instance', () => {
      const s = scenario().when(connected('x', 'y'), removed('x'), severed('x', 'y')).expectCommands([]);
      expect(s.db.prepare('SELECT count(*) FROM prosa_saga_instances').pluck().get()).toBe(0);
    });
  });

  describe('when the worker restarts while a timeout is pending', () => {
    it('fires the timeout once after the restart', () =>
      scenario()
        .given(registered('r1'), connected('r1', 'r2'))
        .when(removed('r1'))
        .restart()
        .advance('6m')
        .restart()
        .advance('1h')
        .expectCommands([severConnection('r1', 'r1', 'r2'), reportStuck('r1', [linkId('r1', 'r2')])])
        .expectFinished('r1'));
  });

  describe('when the timeout is configured shorter', () => {
    it('uses the configured duration', () =>
      sagaScenario(decommission, { timeouts: { stuck: '3s' } })
        .given(registered('r1'), connected('r1', 'r2'))
        .when(removed('r1'))
        .expectTimeouts('r1', { stuck: '3s' }));
  });

  describe('when a connection is announced twice', () => {
    it('severs it once, whether established again or listed twice by a topology', () =>
      scenario()
        .given(
          registered('r1'),
          connected('r1', 'r2'),
          connected('r1', 'r2'),
          topologyDefined(['r3', 'r1'], ['r3', 'r1']),
        )
        .when(removed('r1'))
        .expectCommands([severConnection('r1', 'r1', 'r2'), severConnection('r1', 'r3', 'r1')])
        .expectActive('r1'));
  });

  describe('an instance saved by prosa 0.1 (its active set a map by connection id)', () => {
    it('is read as that set: severed on removal, in id order', () => {
      const c = (from: string, to: string) => ({
        from_resource: from,
        from_interface: 'eth0',
        to_resource: to,
        to_interface: 'eth1',
      });
      const saved = createActor(decommissionMachine, {
        input: { id: 'r1' },
      }).getPersistedSnapshot() as unknown as {
        value: unknown;
        context: { resourceId: string; active: unknown };
      };
      saved.value = 'tracking';
      saved.context = {
        resourceId: 'r1',
        active: { 'r1:eth0--r2:eth1': c('r1', 'r2'), 'r0:eth0--r1:eth1': c('r0', 'r1') },
      };
      const actor = createActor(decommissionMachine, {
        input: { id: 'r1' },
        snapshot: saved as never,
      }).start();
      const commands: EmitCommandParams[] = [];
      const sink = {
        emitCommand: (p: EmitCommandParams) => commands.push(p),
        startTimeout() {},
        cancelTimeout() {},
      };
      withEffectSink(sink, () => actor.send(decommission.decode({ ...removed('r1'), seq: 1 })));
      expect(commands.map((p) => (p.data as { connection: unknown }).connection)).toEqual([
        c('r0', 'r1'),
        c('r1', 'r2'),
      ]);
      expect(actor.getSnapshot().value).toBe('severing');
    });
  });
});
