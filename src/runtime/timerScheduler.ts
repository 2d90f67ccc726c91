/**
 * Fires a saga's due timers from the runtime's clock. The timers themselves are rows (written by
 * the saga engine in its batch transaction); this only decides when to look. It looks every
 * `pollMs` and whenever the next due time is nearer, so a timer that came due while the worker was
 * down fires right after start, and a virtual clock moved by a test is noticed within one poll.
 */
import type { Clock } from '../time/clock.js';
export interface TimerScheduler {
  start(): void;
  /** Look now (e.g. after a batch that may have started a timer). */
  poke(): void;
  stop(): void;
}

export function createTimerScheduler(o: {
  clock: Clock;
  nextDue: () => number | undefined;
  /** Fires what is due; returns how many fired. */
  fire: () => number;
  onError: (e: unknown) => void;
  /** @default 250 */
  pollMs?: number;
}): TimerScheduler {
  const pollMs = o.pollMs ?? 250;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  /** Failed looks in a row: a timer that is due but cannot fire (a full disk) is retried with a backoff. */
  let failures = 0;

  const check = () => {
    timer = undefined;
    if (!running) return;
    try {
      for (let due = o.nextDue(); due !== undefined && due <= o.clock.now(); due = o.nextDue()) {
        if (o.fire() === 0) break;
      }
      failures = 0;
    } catch (e) {
      failures++;
      o.onError(e);
    }
    schedule();
  };
  const schedule = () => {
    if (!running || timer) return;
    const due = o.nextDue();
    const wait =
      failures > 0
        ? Math.min(pollMs * 2 ** (failures - 1), 10_000)
        : due === undefined
          ? pollMs
          : Math.max(0, Math.min(pollMs, due - o.clock.now()));
    timer = setTimeout(check, wait);
    timer.unref();
  };

  return {
    start() {
      running = true;
      check();
    },
    poke() {
      if (!running) return;
      if (timer) clearTimeout(timer);
      timer = undefined;
      schedule();
    },
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
