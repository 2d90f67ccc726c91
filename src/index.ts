/**
 * prosa's public API. Every name is listed (no `export *`); the test kit is `prosa/testkit`.
 */

export type { StoredEvent } from './cim/envelope.js';
export { compareTimestamps, makeEnvelope, parseTimestamp } from './cim/envelope.js';
export type {
  NatsOptions,
  ProsaConfigInput,
  ResolvedConfig,
  StreamConfig,
  WorkerOptions,
} from './config/config.js';
export { defineConfig, loadConfig, resolveConfig } from './config/config.js';
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
export type { Logger } from './logger.js';
export { createLogger } from './logger.js';
export type { RuntimeStatus, WorkerStatus } from './ops/status.js';
export type { Clock, Runtime, RuntimeOptions } from './runtime/runtime.js';
export { createRuntime } from './runtime/runtime.js';
export type { Health, HttpServer } from './serve/httpServer.js';
export type { Metrics, MetricsOptions } from './serve/metrics.js';
export { createMetrics } from './serve/metrics.js';
