/**
 * prosa's public entry: everything a user's project writes with. Every name is listed (no
 * `export *`). The test kit is `prosa/testkit`; the CLI and the kit take internals from
 * `src/internal.ts`.
 */

// The CIM wire format: the envelope and the infrastructure events as the Rust crates publish them.
export type { StoredEvent } from './cim/envelope.js';
export { compareTimestamps, makeEnvelope, parseTimestamp } from './cim/envelope.js';
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
} from './cim/infrastructure.js';
export {
  connectionId,
  decodeInfrastructureEvent,
  encodeInfrastructureEvent,
  infrastructureEventTypes,
  infrastructureSubjects,
} from './cim/infrastructure.js';

// Configuration.
export type {
  NatsOptions,
  ProsaConfigInput,
  ResolvedConfig,
  StreamConfig,
  WorkerOptions,
} from './config/config.js';
export { defineConfig, resolveConfig } from './config/config.js';
export { loadConfig } from './config/loadConfig.js';
// Definitions: what a user declares.
export type {
  ColumnValue,
  EntityDefinition,
  EntityKey,
  ProjectionDefinition,
  ProjectionSchema,
  ProjectionSource,
  ProsaEvent,
  RawEvent,
  Row,
} from './define/projection.js';
export { assertNever, defineProjection } from './define/projection.js';
export type {
  CancelTimeoutParams,
  EmitCommandParams,
  SagaDefinition,
  SagaTimeoutEvent,
  StartTimeoutParams,
  Trace,
} from './define/saga.js';
export { cimTrace, defineSaga, sagaActions } from './define/saga.js';
// Errors: each has a stable `code` (see the README's table).
export type { ErrorCode } from './errors.js';
export {
  ConfigError,
  errorCodes,
  InvalidEventError,
  isProsaError,
  PartialAppendError,
  ProsaError,
  VersionConflictError,
} from './errors.js';
export type {
  AppendOptions,
  EventStore,
  EventStoreOptions,
  NewEvent,
  ReadOptions,
  TimeBound,
} from './eventStore/eventStore.js';
export { createEventStore } from './eventStore/eventStore.js';
export type { Logger } from './logger.js';
export { createLogger } from './logger.js';
export type { DatabaseSize, RuntimeStatus, WorkerStatus } from './ops/status.js';
// What runs.
export type { Runtime, RuntimeOptions } from './runtime/runtime.js';
export { createRuntime } from './runtime/runtime.js';
export type { Health, HttpServer } from './serve/httpServer.js';
export type { Metrics, MetricsOptions } from './serve/metrics.js';
export { createMetrics } from './serve/metrics.js';
export type { Clock } from './time/clock.js';
export { systemClock } from './time/clock.js';
