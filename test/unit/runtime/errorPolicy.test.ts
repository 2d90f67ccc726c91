import { describe, expect, it } from 'vitest';
import { createErrorPolicy } from '../../../src/runtime/errorPolicy.js';
import { openDatabase } from '../../../src/store/database.js';
import { recordSkip } from '../../../src/store/skips.js';

const letter = (seq: number) => ({ seq, subject: 'ledger.a', reason: 'boom' });

function policy(attempts: number, onError: 'dead-letter' | 'stop' = 'dead-letter', backoff = 100) {
  const db = openDatabase(':memory:');
  return { db, policy: createErrorPolicy({ db, worker: 'ledger', retries: { attempts, backoff }, onError }) };
}

describe('error policy', () => {
  it('applies onError at once when no retries are configured', () => {
    expect(policy(0, 'dead-letter').policy.verdict(letter(3))).toBe('dead-letter');
    expect(policy(0, 'stop').policy.verdict(letter(3))).toBe('stop');
  });

  it('retries a bad event as often as configured, then applies onError', () => {
    const { policy: p } = policy(2, 'stop');
    expect(p.verdict(letter(7))).toBe('retry');
    p.retryDelay(7);
    expect(p.verdict(letter(7))).toBe('retry');
    p.retryDelay(7);
    expect(p.verdict(letter(7))).toBe('stop');
  });

  it('counts attempts per message', () => {
    const { policy: p } = policy(1);
    p.retryDelay(7);
    expect(p.verdict(letter(7))).toBe('dead-letter');
    expect(p.verdict(letter(8))).toBe('retry');
  });

  it('starts over once onError applied to a message', () => {
    const { policy: p } = policy(1, 'stop');
    p.retryDelay(7);
    expect(p.verdict(letter(7))).toBe('stop');
    expect(p.verdict(letter(7))).toBe('retry');
    expect(p.retryDelay(7)).toEqual({ attempt: 1, delayMs: 100 });
  });

  it('doubles the wait with each attempt, from the backoff', () => {
    const { policy: p } = policy(4, 'dead-letter', 250);
    expect([1, 2, 3, 4].map(() => p.retryDelay(9))).toEqual([
      { attempt: 1, delayMs: 250 },
      { attempt: 2, delayMs: 500 },
      { attempt: 3, delayMs: 1_000 },
      { attempt: 4, delayMs: 2_000 },
    ]);
    expect(p.retryDelay(10)).toEqual({ attempt: 1, delayMs: 250 });
  });

  it('forgets every attempt on reset', () => {
    const { policy: p } = policy(1);
    p.retryDelay(7);
    p.retryDelay(8);
    p.reset();
    expect(p.verdict(letter(7))).toBe('retry');
    expect(p.retryDelay(8)).toEqual({ attempt: 1, delayMs: 100 });
  });

  it("knows the operator's skips once reloaded", () => {
    const { db, policy: p } = policy(3);
    recordSkip(db, 'ledger', 5, 'skipped by operator');
    recordSkip(db, 'other', 6, 'not ours');
    expect(p.skipped(5)).toBeUndefined();
    p.reload();
    expect(p.skipped(5)).toBe('skipped by operator');
    expect(p.skipped(6)).toBeUndefined();
    recordSkip(db, 'ledger', 6, 'later');
    expect(p.skipped(6)).toBeUndefined();
    p.reload();
    expect(p.skipped(6)).toBe('later');
  });
});
