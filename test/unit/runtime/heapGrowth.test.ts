import { describe, expect, it } from 'vitest';
import { limitHeapGrowth } from '../../../src/runtime/heapGrowth.js';

describe('limitHeapGrowth', () => {
  it('leaves V8 its own factor at 0, and a --heap-growing-percent given to node wins', () => {
    expect(limitHeapGrowth(0, [])).toBeUndefined();
    expect(limitHeapGrowth(100, ['--heap-growing-percent=40'])).toBe(40);
    expect(limitHeapGrowth(100, ['--heap_growing_percent=60'])).toBe(60);
  });

  it('sets the factor once per value for the process', () => {
    expect(limitHeapGrowth(120, [])).toBe(120);
    expect(limitHeapGrowth(120, [])).toBe(120);
    expect(limitHeapGrowth(100, [])).toBe(100);
    // 0 later does not undo what applies to the whole process.
    expect(limitHeapGrowth(0, [])).toBe(100);
  });
});
