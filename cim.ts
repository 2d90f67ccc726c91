/**
 * `prosa/cim`: the CIM infrastructure pieces prosa ships, ready for a user's runtime config: the
 * topology read model, the decommission and provisioning sagas, their pure machines, and the CIM
 * event decoder and types. A CIM project's config is then
 *
 *   import { defineConfig } from 'prosa';
 *   import { decommission, provisioning, topology } from 'prosa/cim';
 *   export default defineConfig({ projections: [topology], sagas: [decommission, provisioning] });
 */

export type {
  Cidr,
  ComputeResource,
  ComputeType,
  Connection,
  InfrastructureEvent,
  InfrastructureEventOf,
  InfrastructureEventType,
  InfrastructurePayload,
  Interface,
  Network,
  Policy,
  PolicyScope,
  ResourceCapabilities,
  ResourceUpdates,
  Rule,
  RuleType,
  SoftwareArtifact,
  SoftwareConfiguration,
  StoredEvent,
} from 'prosa';
export {
  connectionId,
  decodeInfrastructureEvent,
  encodeInfrastructureEvent,
  infrastructureEventTypes,
  infrastructureSubjects,
} from 'prosa';
export { type DecommissionContext, decommissionMachine } from './machines/decommission.js';
export { provisioningMachine } from './machines/provisioning.js';
export type {
  ComputeResourceRow,
  ConnectionRow,
  InterfaceRow,
  NetworkRow,
  NetworkType,
  PolicyRow,
  SoftwareConfigurationRow,
} from './machines/topology.js';
export {
  computeResource as computeResourceMachine,
  connection as connectionMachine,
  iface as interfaceMachine,
  network as networkMachine,
  policy as policyMachine,
  software as softwareMachine,
} from './machines/topology.js';
export { default as topology, type TopologyKind } from './projections/topology.js';
export { topologySchema } from './projections/topology.schema.js';
export { default as decommission } from './sagas/decommission.js';
export { default as provisioning } from './sagas/provisioning.js';
