/**
 * A projection whose definition `version` differs from the one its model was built with is rebuilt
 * beside the live model (blue/green) before its worker starts; the old model serves reads until the
 * swap. This keeps those rebuilds: their progress for status, and the tasks a drain waits for.
 */
import type { ProjectionDefinition, ProsaEvent } from '../define/projection.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../time/clock.js';
import type { RebuildProgress, RebuildResult } from './rebuild.js';

/** How often a rebuild's progress is logged. */
const LOG_EVERY_MS = 5_000;

export interface VersionRebuilds {
  /** Rebuilds `definition` (built with `from`), then calls `swappedIn` unless the runtime stops. */
  start(definition: ProjectionDefinition<ProsaEvent, string>, from: number): void;
  /** Projections being rebuilt, with their last progress (undefined before the first report). */
  readonly progress: ReadonlyMap<string, RebuildProgress | undefined>;
  readonly tasks: readonly Promise<unknown>[];
}

export function createVersionRebuilds(o: {
  rebuild: (
    name: string,
    options: { reason: string; onProgress: (p: RebuildProgress) => void },
  ) => Promise<RebuildResult>;
  /** Starts the projection's worker once its new model is in. */
  swappedIn: (definition: ProjectionDefinition<ProsaEvent, string>) => Promise<void>;
  stopping: () => boolean;
  log: Logger;
  clock: Clock;
}): VersionRebuilds {
  const { log, clock } = o;
  const progress = new Map<string, RebuildProgress | undefined>();
  const tasks: Promise<unknown>[] = [];
  return {
    progress,
    tasks,
    start(definition, from) {
      const name = definition.name;
      const to = definition.version ?? 1;
      const reason = `version ${from} -> ${to}`;
      log.warn(
        { projection: name, from, to },
        `projection ${name} changed version (${reason}): rebuilding it beside the live model, which keeps serving reads until the new one is swapped in`,
      );
      progress.set(name, undefined);
      let lastLog = 0;
      const onProgress = (p: RebuildProgress) => {
        progress.set(name, p);
        if (clock.now() - lastLog > LOG_EVERY_MS) {
          lastLog = clock.now();
          log.info({ projection: name, ...p }, 'rebuild progress');
        }
      };
      const task = o.rebuild(name, { reason, onProgress }).then(
        async () => {
          progress.delete(name);
          if (!o.stopping()) await o.swappedIn(definition);
        },
        (e: unknown) => {
          progress.delete(name);
          log.error(
            { err: e, projection: name },
            'version rebuild failed; the old model keeps serving, the projection is not running (restart to retry)',
          );
        },
      );
      tasks.push(task);
    },
  };
}
