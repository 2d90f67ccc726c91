/**
 * prosa's public API. Every name is listed (no `export *`); the test kit is `prosa/testkit`.
 */

export type { StoredEvent } from './cim/envelope.js';
export { compareTimestamps, makeEnvelope, parseTimestamp } from './cim/envelope.js';
export type { NatsOptions, ProsaConfigInput, ResolvedConfig, StreamConfig, WorkerOptions } from './config.js';
export { defineConfig, loadConfig, resolveConfig } from './config.js';
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
export type { Health, HttpServer } from './httpServer.js';
export type { Logger } from './logger.js';
export { createLogger } from './logger.js';
export type { Metrics, MetricsOptions } from './metrics.js';
export { createMetrics } from './metrics.js';
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
} from './projection.js';
export { assertNever, defineProjection } from './projection.js';
export type { Clock, Runtime, RuntimeOptions } from './runtime.js';
export { createRuntime } from './runtime.js';
export type { RuntimeStatus, WorkerStatus } from './status.js';
