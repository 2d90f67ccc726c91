/**
 * The rebuilds started from the console, with their last progress and how each ended, so the page
 * can show them live and after the swap. One at a time per projection.
 */
import { ProsaError } from '../../errors.js';

/** A rebuild's progress as the runtime reports it (src/runtime/rebuild.ts). */
export interface RebuildProgressView {
  phase: 'replaying' | 'catching up' | 'swapping' | 'done';
  applied: number;
  checkpoint: number;
  target: number;
  eventsPerSecond: number;
  etaMs: number | null;
}

/** How a finished rebuild ended (src/runtime/rebuild.ts). */
export interface RebuildOutcome {
  checkpoint: number;
  applied: number;
  ms: number;
  resumed: boolean;
}

export type StartRebuild = (
  projection: string,
  onProgress: (p: RebuildProgressView) => void,
) => Promise<RebuildOutcome>;

export interface RebuildEntry {
  projection: string;
  startedAt: string;
  state: 'running' | 'swapped' | 'failed';
  progress: RebuildProgressView | null;
  result?: RebuildOutcome;
  error?: string;
  endedAt?: string;
}

export function createRebuildTracker(start: StartRebuild, now: () => number) {
  const entries = new Map<string, RebuildEntry>();
  return {
    list: (): RebuildEntry[] => [...entries.values()],
    /** Starts a rebuild and returns at once; its progress shows in `list()`. */
    start(projection: string): RebuildEntry {
      if (entries.get(projection)?.state === 'running')
        throw new ProsaError('PROSA_REBUILD_RUNNING', `a rebuild of ${projection} is already under way`);
      const entry: RebuildEntry = {
        projection,
        startedAt: new Date(now()).toISOString(),
        state: 'running',
        progress: null,
      };
      const promise = start(projection, (p) => {
        entry.progress = { ...p };
      });
      entries.set(projection, entry);
      promise.then(
        (result) => {
          entry.state = 'swapped';
          entry.result = result;
          entry.endedAt = new Date(now()).toISOString();
        },
        (e: unknown) => {
          entry.state = 'failed';
          entry.error = e instanceof Error ? e.message : String(e);
          entry.endedAt = new Date(now()).toISOString();
        },
      );
      return entry;
    },
  };
}

export type RebuildTracker = ReturnType<typeof createRebuildTracker>;
