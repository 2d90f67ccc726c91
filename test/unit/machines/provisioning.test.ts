import { describe, it } from 'vitest';
import provisioning from '../../../sagas/provisioning.js';
import { sagaScenario } from '../../../src/testkit/sagaScenario.js';
import { interfaceAdded, registered, removed } from '../../support/infrastructureEvents.js';

const scenario = () => sagaScenario(provisioning);
const applyBaseline = (resource: string, network: string) => ({
  type: 'ApplyBaselinePolicy',
  aggregateId: resource,
  data: { resource_id: resource, network_id: network },
});
const decommissionResource = (resource: string) => ({
  type: 'DecommissionResource',
  aggregateId: resource,
  data: { resource_id: resource, reason: 'provisioning timed out' },
});

describe('provisioning saga', () => {
  describe('when a resource is registered', () => {
    it('starts an instance with a 15 minute timeout', () =>
      scenario().when(registered('r1')).expectActive('r1').expectTimeouts('r1', { deadline: '15m' }));
    it('changes nothing when registered again while live', () =>
      scenario()
        .given(registered('r1'))
        .advance('10m')
        .when(registered('r1'))
        .expectCommands([])
        .expectTimeouts('r1', { deadline: '5m' }));
  });

  describe('when an interface on a network is added in time', () => {
    it('emits ApplyBaselinePolicy and finishes, and the timeout never fires', () =>
      scenario()
        .given(registered('r1'))
        .when(interfaceAdded('r1', null), interfaceAdded('r1', 'lan'))
        .advance('1h')
        .expectCommands([applyBaseline('r1', 'lan')])
        .expectFinished('r1'));
  });

  describe('when nothing happens for 15 minutes', () => {
    it('emits DecommissionResource and finishes', () =>
      scenario()
        .given(registered('r1'))
        .advance('15m')
        .expectCommands([decommissionResource('r1')])
        .expectFinished('r1'));
  });

  describe('when the resource is removed first', () => {
    it('finishes silently and cancels the timeout', () =>
      scenario()
        .given(registered('r1'))
        .when(removed('r1'))
        .advance('1h')
        .expectCommands([])
        .expectFinished('r1'));
  });

  describe('when the resource is registered again after finishing', () => {
    it('starts a new instance with a new timeout', () =>
      scenario()
        .given(registered('r1'), removed('r1'))
        .when(registered('r1'))
        .expectActive('r1')
        .advance('15m')
        .expectCommands([decommissionResource('r1')])
        .expectFinished('r1'));
  });

  describe('when an interface is added for a resource never registered', () => {
    it('is ignored', () => scenario().when(interfaceAdded('ghost', 'lan')).expectCommands([]));
  });
});
