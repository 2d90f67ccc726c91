// When the pruner deletes (at start, then every `everyMs` by the runtime's clock) and how (bounded
// batches until one comes back short; nothing after stop).
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logger.js';
import { createPruner, type PruneTask } from '../../../src/runtime/pruner.js';
import { waitFor } from '../../support/waitFor.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A task over `rows` (their ages as epoch ms) that records each call. */
function rowsTask(what: string, retentionMs: number, rows: number[]) {
  const calls: { before: number; limit: number; deleted: number }[] = [];
  const task: PruneTask = {
    what,
    retentionMs,
    remove(before, limit) {
      const old = rows.filter((at) => at < before).slice(0, limit);
      for (const at of old) rows.splice(rows.indexOf(at), 1);
      calls.push({ before, limit, deleted: old.length });
      return old.length;
    },
  };
  return { task, calls, rows };
}

describe('createPruner', () => {
  it('prunes at start, again once the clock passed everyMs, in batches of batchRows', async () => {
    const clock = { t: 1_000_000, now: () => clock.t };
    const outbox = rowsTask('outbox', 100, [1, 2, 3, 4, 5, 999_950]);
    const timers = rowsTask('timers', 1_000, [999_500]);
    const pruner = createPruner({
      clock,
      log: silentLogger(),
      tasks: [outbox.task, timers.task],
      everyMs: 60_000,
      batchRows: 2,
      pollMs: 5,
    });
    pruner.start();
    await waitFor('the first round', () => timers.calls.length === 1);
    // 5 old rows in batches of 2: 2, 2, 1 (short: done); the recent one and the timer stay.
    expect(outbox.calls).toEqual([
      { before: 999_900, limit: 2, deleted: 2 },
      { before: 999_900, limit: 2, deleted: 2 },
      { before: 999_900, limit: 2, deleted: 1 },
    ]);
    expect(outbox.rows).toEqual([999_950]);
    expect(timers.calls).toEqual([{ before: 999_000, limit: 2, deleted: 0 }]);

    clock.t += 59_999; // not due yet
    await sleep(30);
    expect(timers.calls).toHaveLength(1);

    clock.t += 1; // due: both kinds again, from the new now
    await waitFor('the second round', () => timers.calls.length === 2);
    expect(outbox.calls.at(-1)).toEqual({ before: 1_059_900, limit: 2, deleted: 1 });
    expect(timers.calls.at(-1)).toEqual({ before: 1_059_000, limit: 2, deleted: 1 });
    expect([outbox.rows, timers.rows]).toEqual([[], []]);
    pruner.stop();
  });

  it('deletes nothing after stop, and a second start while running changes nothing', async () => {
    const clock = { t: 0, now: () => clock.t };
    const outbox = rowsTask('outbox', 10, []);
    const pruner = createPruner({
      clock,
      log: silentLogger(),
      tasks: [outbox.task],
      everyMs: 100,
      pollMs: 5,
    });
    pruner.start();
    pruner.start();
    await waitFor('the first round', () => outbox.calls.length === 1);
    await sleep(20);
    expect(outbox.calls).toHaveLength(1);
    pruner.stop();
    clock.t += 1_000;
    await sleep(30);
    expect(outbox.calls).toHaveLength(1);
  });

  it('logs a failed round and tries again at the next one', async () => {
    const clock = { t: 0, now: () => clock.t };
    let tries = 0;
    const pruner = createPruner({
      clock,
      log: silentLogger(),
      tasks: [
        {
          what: 'outbox',
          retentionMs: 0,
          remove: () => {
            tries++;
            if (tries === 1) throw new Error('SQLITE_BUSY');
            return 0;
          },
        },
      ],
      everyMs: 100,
      pollMs: 5,
    });
    pruner.start();
    await waitFor('the first round', () => tries === 1);
    clock.t += 100;
    await waitFor('the next round', () => tries === 2);
    pruner.stop();
  });
});
