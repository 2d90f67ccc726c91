/**
 * `prosa/testkit`: prove projections and sagas with the real engine code.
 *
 * - {@link checkProjection}: property-based replay check of a projection (any batching,
 *   redelivery, crash and passivation gives the read model of one clean pass, and of a reference).
 * - {@link sagaScenario}: given/when/advance/expect tests of a saga on a virtual clock.
 * - {@link arbitraries}: fast-check generators of CIM infrastructure streams and their pieces.
 * - {@link replay}, {@link cleanReplay}, {@link replaySaga}: the drivers underneath, for
 *   properties of one's own.
 *
 * Every name is listed here (no `export *`).
 */

export type {
  EnvelopeOptions,
  FractionDigits,
  InfrastructureEventsOptions,
  InfrastructureSequenceOptions,
  TimestampOptions,
  UuidV7Options,
} from './arbitraries/index.js';
export { arbitraries } from './arbitraries/index.js';
export type {
  CheckProjectionOptions,
  NatsCheckOptions,
  ReferenceModel,
  RunOptions,
  ScheduleOptions,
  StreamMessage,
} from './checkProjection/index.js';
export { checkProjection, ProjectionCheckError } from './checkProjection/index.js';
export type { DeliveryPlan, DeliveryStep, ReplayResult, ReplayTraceEntry } from './replay.js';
export { cleanReplay, replay, replayTraceOf } from './replay.js';
export type {
  ClockAdvance,
  SagaDeliveryStep,
  SagaReplayPlan,
  SagaReplayResult,
} from './sagaReplay.js';
export { replaySaga } from './sagaReplay.js';
export type { ExpectedCommand, SagaScenario, SagaScenarioOptions, WireEvent } from './sagaScenario.js';
export { sagaScenario } from './sagaScenario.js';
