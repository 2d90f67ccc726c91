// A due timer that cannot fire (its commit fails: a full disk) is retried with a growing wait, not
// in a tight loop, and fires once firing works again.
import { describe, expect, it } from 'vitest';
import { createTimerScheduler } from '../../../src/runtime/timerScheduler.js';
import { waitFor } from '../../support/waitFor.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('createTimerScheduler', () => {
  it('backs off while firing fails, then fires when it works again', async () => {
    const clock = { now: () => 1_000_000 };
    let due: number | undefined = 999_000;
    let failing = true;
    const attempts: number[] = [];
    const errors: unknown[] = [];
    const scheduler = createTimerScheduler({
      clock,
      nextDue: () => due,
      fire: () => {
        attempts.push(Date.now());
        if (failing) throw new Error('database or disk is full');
        due = undefined;
        return 1;
      },
      onError: (e) => errors.push(e),
      pollMs: 10,
    });
    scheduler.start();
    try {
      await sleep(400);
      // 10, 20, 40, 80, 160 ms apart: about 6 looks in 400 ms, where a tight loop makes hundreds.
      expect(attempts.length).toBeGreaterThanOrEqual(3);
      expect(attempts.length).toBeLessThanOrEqual(8);
      expect(errors.length).toBe(attempts.length);
      const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] as number));
      expect(gaps.at(-1)).toBeGreaterThanOrEqual(60);
      failing = false;
      await waitFor('the timer fired', () => due === undefined, 2_000);
      expect(errors.length).toBe(attempts.length - 1);
    } finally {
      scheduler.stop();
    }
  });
});
