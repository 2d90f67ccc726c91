/** checkProjection's public names (no `export *`). */
export { checkProjection } from './checkProjection.js';
export { ProjectionCheckError } from './failures.js';
export type {
  CheckProjectionOptions,
  NatsCheckOptions,
  ReferenceModel,
  RunOptions,
  ScheduleOptions,
  StreamMessage,
} from './options.js';
