/**
 * The kit's fast-check arbitraries, as one object: `arbitraries.cim.infrastructureEvents(...)` for
 * whole CIM infrastructure streams, and the pieces to build generators of one's own (ids,
 * timestamps, envelopes, CIM entities).
 */
import {
  capabilitiesArb,
  cidrV4Arb,
  cidrV6Arb,
  computeResource,
  connection,
  hostnameArb,
  infrastructureEvents,
  metadataArb,
  network,
  networkInterface,
  policy,
  resourceId,
  ruleArb,
  softwareConfiguration,
} from './cim/index.js';
import { envelope } from './envelope.js';
import { uuidV7 } from './ids.js';
import { timestamp } from './time.js';

export type { InfrastructureEventsOptions, InfrastructureSequenceOptions } from './cim/index.js';
export type { EnvelopeOptions } from './envelope.js';
export type { UuidV7Options } from './ids.js';
export type { FractionDigits, TimestampOptions } from './time.js';

/**
 * Generators for property tests.
 *
 * @example
 * import { arbitraries, checkProjection } from 'prosa/testkit';
 * checkProjection(topology, { events: arbitraries.cim.infrastructureEvents({ resources: 4, events: 60 }) });
 */
export const arbitraries = Object.freeze({
  /** UUID v7 strings with an embedded time, reproducible from the seed. */
  uuidV7,
  /** RFC 3339 timestamps with 0, 3, 6 or 9 fraction digits, `Z` or (optionally) an offset. */
  timestamp,
  /** The CIM `StoredEvent` envelope around a domain event of one type. */
  envelope,
  /** The CIM infrastructure domain. */
  cim: Object.freeze({
    /** Whole, causally plausible event streams on the wire (`RawEvent[]`, seq 1..n). */
    infrastructureEvents,
    resourceId,
    computeResource,
    capabilities: () => capabilitiesArb,
    metadata: () => metadataArb,
    hostname: () => hostnameArb,
    network,
    cidrV4: () => cidrV4Arb,
    cidrV6: () => cidrV6Arb,
    networkInterface,
    connection,
    softwareConfiguration,
    policy,
    rule: () => ruleArb,
  }),
});
