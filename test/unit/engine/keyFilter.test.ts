import { describe, expect, it } from 'vitest';
import { createKeyFilter } from '../../../src/engine/keyFilter.js';

describe('the key filter', () => {
  it('says maybe for every key added, also past its first capacity', () => {
    const filter = createKeyFilter(64);
    const keys = Array.from({ length: 50_000 }, (_, i) => `resource\u0000r-${i}`);
    for (const k of keys) filter.add(k);
    expect(keys.every((k) => filter.mightHave(k))).toBe(true);
  });

  it('says no for almost every key never added', () => {
    const filter = createKeyFilter(1_000);
    for (let i = 0; i < 20_000; i++) filter.add(`connection\u0000c-${i}`);
    let maybes = 0;
    for (let i = 0; i < 20_000; i++) if (filter.mightHave(`connection\u0000other-${i}`)) maybes++;
    // ~1% per filter; it holds a handful of filters after growing from 1,000 to 20,000 keys.
    expect(maybes / 20_000).toBeLessThan(0.05);
  });

  it('says no for anything when empty', () => {
    expect(createKeyFilter().mightHave('x')).toBe(false);
  });
});
