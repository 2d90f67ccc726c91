/**
 * The internals the CLI and the test kit are built from, in one place: what they may use of the
 * runtime below them. Not a public API (users import 'prosa' and 'prosa/testkit'); listed name by
 * name so a reader sees what the top layers depend on.
 */
export { publishDemo } from './cim/demo/index.js';
export type { StoredEvent } from './cim/envelope.js';
export { isUuid } from './cim/envelope.js';
export type {
  Cidr,
  ComputeResource,
  ComputeType,
  Connection,
  InfrastructureEventType,
  InfrastructurePayloadInput,
  Interface,
  Network,
  Policy,
  PolicyScope,
  ResourceCapabilities,
  Rule,
  RuleType,
  SoftwareConfiguration,
} from './cim/infrastructure.js';
export { buildInfrastructureEnvelope, infrastructureSubjects } from './cim/infrastructure.js';
export type { ResolvedConfig } from './config/config.js';
export { splitNames } from './config/config.js';
export { loadConfig } from './config/loadConfig.js';
export { defaults } from './defaults.js';
export type { ProjectionDefinition, ProsaEvent, RawEvent } from './define/projection.js';
export type { SagaDefinition } from './define/saga.js';
export type { ProjectionEngine } from './engine/projectionEngine.js';
export { createProjectionEngine } from './engine/projectionEngine.js';
export type { SagaCommand, SagaEngine, SagaEngineOptions } from './engine/sagaEngine.js';
export { createSagaEngine } from './engine/sagaEngine.js';
export { ConfigError, isProsaError, ProsaError } from './errors.js';
export type { Logger } from './logger.js';
export { createLogger, silentLogger } from './logger.js';
export { connectNats } from './nats/connection.js';
export { sendControl } from './nats/control.js';
export { findEmbeddedUrl } from './nats/embeddedServer.js';
export { openLeaseStore } from './nats/leaseStore.js';
export { spawnNatsServer } from './nats/natsServerProcess.js';
export { applyStreams, listStreams } from './nats/streams.js';
export type { AdminContext, SagaInstanceView } from './ops/admin.js';
export {
  cancelTimeout,
  deadLetters,
  handoverSaga,
  pauseWorker,
  purgeDeadLettersOf,
  resetSaga,
  resumeWorker,
  retryDeadLetters,
  sagaInstances,
  skipDeadLetter,
  skipMessage,
} from './ops/admin.js';
export type { DeadLetterEntry } from './ops/deadLetters.js';
export { formatDoctor, runDoctor } from './ops/doctor.js';
export type { DatabaseSize, RuntimeStatus, WorkerStatus } from './ops/status.js';
export { collectStatus, lastSeqOnSubjects } from './ops/status.js';
export type { TopologyFormat } from './ops/topologyView.js';
export { formatTopology, readTopologyView, topologyFormats } from './ops/topologyView.js';
export { limitHeapGrowth } from './runtime/heapGrowth.js';
export type { RebuildProgress } from './runtime/rebuild.js';
export { rebuildProjection } from './runtime/rebuild.js';
export { createRuntime } from './runtime/runtime.js';
export { STATE_COLUMN } from './store/actorState.js';
export { abortCheckpointWritesWhen, readCheckpoint } from './store/checkpoints.js';
export { openDatabase } from './store/database.js';
export { createRetriedCheck, listDeadLetterReasons, retryRecorder } from './store/deadLetters.js';
export { createOutboxReader } from './store/outbox.js';
export { createSagaInstanceView } from './store/sagaInstances.js';
export type { SqliteDatabase } from './store/sqlite.js';
export { quoteIdent } from './store/sqlite.js';
export { createInstanceTimerReader, timerStatuses } from './store/timers.js';
export { listWaitingSeqs } from './store/waiting.js';
export { isoNow, systemClock } from './time/clock.js';
export { formatDuration, parseDuration } from './time/duration.js';
