/** A running projection: the projection engine inside a worker (src/runtime/worker.ts). */
import type { ProjectionDefinition, ProsaEvent } from '../define/projection.js';
import { createProjectionEngine } from '../engine/projectionEngine.js';
import { systemClock } from '../time/clock.js';
import { createWorker, type Worker, type WorkerEnvironment } from './worker.js';

export interface ProjectionWorkerOptions extends WorkerEnvironment {
  definition: ProjectionDefinition<ProsaEvent, string>;
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
