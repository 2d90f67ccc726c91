/**
 * CIM infrastructure events as fast-check arbitraries: wire bodies (the crates' exact
 * JSON, UTF-8) with their subjects and stream sequences, ready for `decode`, `checkProjection` or a
 * publish.
 *
 * - {@link infrastructureEvents}: valid, causally plausible sequences over a bounded id pool
 *   (registrations and re-registrations, updates with null and missing fields and for unknown ids,
 *   removals, interfaces, networks, topologies, connections and severed ones, network removal,
 *   software, policies), timestamps increasing with 0, 3, 6 or 9 fraction digits. Shrinks on the
 *   plan of steps, so a counterexample stays readable.
 * - The entities on their own ({@link computeResource}, {@link network}, {@link connection}, ...)
 *   to build sequences of one's own.
 */

export {
  capabilitiesArb,
  cidrV4Arb,
  cidrV6Arb,
  hostnameArb,
  metadataArb,
  ruleArb,
} from './buildingBlocks.js';
export {
  computeResource,
  connection,
  network,
  networkInterface,
  policy,
  resourceId,
  softwareConfiguration,
} from './entities.js';
export {
  type InfrastructureEventsOptions,
  infrastructureEventSequence,
  infrastructureEvents,
} from './infrastructureEvents.js';
export type { InfrastructureSequenceOptions } from './plan.js';
export { cimEnvelope, type EnvelopeIds, GENERATED_AGGREGATE_ID, utf8, wire } from './wire.js';
