/** A running projection: the projection engine inside a worker (src/runtime/worker.ts). */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { WorkerOptions } from '../config/config.js';
import type { ProjectionDefinition, ProsaEvent } from '../define/projection.js';
import { createProjectionEngine } from '../engine/projectionEngine.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../serve/metrics.js';
import type { SqliteDatabase } from '../store/database.js';
import { type Clock, systemClock } from '../time/clock.js';
import { createWorker, type Worker } from './worker.js';

export interface ProjectionWorkerOptions {
  definition: ProjectionDefinition<ProsaEvent, string>;
  options: WorkerOptions;
  db: SqliteDatabase;
  js: JetStreamClient;
  jsm: JetStreamManager;
  log: Logger;
  /** @default systemClock */
  clock?: Clock;
  /** @default none */
  metrics?: Metrics;
}

export function createProjectionWorker(o: ProjectionWorkerOptions): Worker {
  const clock = o.clock ?? systemClock;
  return createWorker({
    ...o,
    kind: 'projection',
    name: o.definition.name,
    source: o.definition.source,
    engine: (policy) =>
      createProjectionEngine(o.definition, o.db, {
        maxActors: o.options.maxActors,
        policy,
        stream: o.definition.source.stream,
        clock,
        deadLetters: o.options.deadLetters,
      }),
    clock,
  });
}
