import { describe, expect, it } from 'vitest';
import { createCheckpointWaiters } from '../../../src/runtime/checkpointWaiters.js';

describe('checkpoint waiters', () => {
  it('resolves at once when the checkpoint is already there', async () => {
    await expect(createCheckpointWaiters('projection p', () => 5).waitFor(5, 10)).resolves.toBeUndefined();
  });

  it('resolves the waiters a batch reached, and only those', async () => {
    let checkpoint = 0;
    const waiters = createCheckpointWaiters('projection p', () => checkpoint);
    const settled: number[] = [];
    const waits = [3, 6].map((seq) => waiters.waitFor(seq, 1_000).then(() => settled.push(seq)));
    checkpoint = 4;
    waiters.settle();
    await waits[0];
    expect(settled).toEqual([3]);
    checkpoint = 6;
    waiters.settle();
    await waits[1];
    expect(settled).toEqual([3, 6]);
  });

  it('rejects after the timeout, saying where the checkpoint is', async () => {
    const waiters = createCheckpointWaiters('saga s', () => 2);
    await expect(waiters.waitFor(9, 5)).rejects.toThrow('saga s at 2, not 9, after 5 ms');
  });

  it('rejects every waiter when the worker stops', async () => {
    const waiters = createCheckpointWaiters('projection p', () => 1);
    const a = waiters.waitFor(4, 1_000);
    const b = waiters.waitFor(8, 1_000);
    waiters.rejectAll();
    await expect(a).rejects.toThrow('projection p stopped at 1 before reaching 4');
    await expect(b).rejects.toThrow('projection p stopped at 1 before reaching 8');
  });
});
