/** Callers waiting for a worker's checkpoint to reach a sequence (`worker.waitFor`). */

export interface CheckpointWaiters {
  /** Resolves once the checkpoint has reached `seq`; rejects after `timeoutMs`. */
  waitFor(seq: number, timeoutMs: number): Promise<void>;
  /** Resolves the waiters the checkpoint has reached; called after each batch. */
  settle(): void;
  /** Rejects every waiter: the worker stopped. */
  rejectAll(): void;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** `label` names the worker in messages (`projection ledger`). */
export function createCheckpointWaiters(label: string, checkpoint: () => number): CheckpointWaiters {
  const waiters = new Set<Waiter>();
  return {
    waitFor(seq, timeoutMs) {
      if (checkpoint() >= seq) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const w: Waiter = {
          seq,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
          reject: (e: Error) => {
            clearTimeout(t);
            reject(e);
          },
        };
        const t = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`${label} at ${checkpoint()}, not ${seq}, after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    settle() {
      for (const w of waiters) {
        if (checkpoint() >= w.seq) {
          waiters.delete(w);
          w.resolve();
        }
      }
    },
    rejectAll() {
      for (const w of waiters)
        w.reject(new Error(`${label} stopped at ${checkpoint()} before reaching ${w.seq}`));
      waiters.clear();
    },
  };
}
