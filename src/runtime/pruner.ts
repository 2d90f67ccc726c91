/**
 * Deletes what a worker's retentions let go (published commands, ended timers, finished records),
 * so the database grows with the read model and the live state, not with the stream's length. It
 * prunes at start and then every `everyMs` by the runtime's clock; like the timer scheduler it
 * looks every `pollMs`, so a virtual clock moved by a test is noticed within one poll. Each delete
 * takes at most `batchRows` rows and the event loop runs between deletes, so the worker's batch
 * transactions never wait long behind the write lock.
 */
import { defaults } from '../defaults.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../time/clock.js';

/** One kind of row to prune: `remove` deletes up to `limit` rows older than `before` (epoch ms). */
export interface PruneTask {
  /** How the log names it: `outbox`, `timers`, `finished`. */
  what: string;
  retentionMs: number;
  remove(before: number, limit: number): number;
}

export interface Pruner {
  /** Prunes now, then every `everyMs`; calling it again while running does nothing. */
  start(): void;
  /** No delete runs after this returns. */
  stop(): void;
}

export function createPruner(o: {
  clock: Clock;
  log: Logger;
  tasks: readonly PruneTask[];
  /** @default defaults.prune.everyMs */
  everyMs?: number;
  /** @default defaults.prune.batchRows */
  batchRows?: number;
  /** @default 1_000 */
  pollMs?: number;
}): Pruner {
  const everyMs = o.everyMs ?? defaults.prune.everyMs;
  const batchRows = o.batchRows ?? defaults.prune.batchRows;
  const pollMs = o.pollMs ?? 1_000;
  let running = false;
  let pruning = false;
  let nextAt = 0;
  let timer: NodeJS.Timeout | undefined;

  const nextTick = () => new Promise<void>((r) => setImmediate(r));

  /** Deletes one kind's old rows a bounded batch at a time; stops early when the pruner stops. */
  const pruneAll = async (task: PruneTask, now: number): Promise<number> => {
    const before = now - task.retentionMs;
    let total = 0;
    while (running) {
      const n = task.remove(before, batchRows);
      total += n;
      if (n < batchRows) break;
      await nextTick();
    }
    return total;
  };

  const run = async () => {
    pruning = true;
    const now = o.clock.now();
    nextAt = now + everyMs;
    try {
      const deleted: Record<string, number> = {};
      for (const task of o.tasks) {
        const n = await pruneAll(task, now);
        if (n > 0) deleted[task.what] = n;
      }
      if (Object.keys(deleted).length > 0) o.log.info({ deleted }, 'pruned rows past their retention');
    } catch (e) {
      o.log.warn({ err: e }, 'pruning failed; trying again at the next round');
    } finally {
      pruning = false;
    }
  };

  const check = () => {
    timer = undefined;
    if (!running) return;
    if (!pruning && o.clock.now() >= nextAt) void run();
    timer = setTimeout(check, pollMs);
    timer.unref();
  };

  return {
    start() {
      if (running) return;
      running = true;
      nextAt = 0;
      check();
    },
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
