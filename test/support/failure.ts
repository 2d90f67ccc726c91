import { expect } from 'vitest';
import { ProsaError } from '../../src/errors.js';

/** Runs `fn`, expecting a ProsaError; returns it with how long it took. */
export async function failure(fn: () => Promise<unknown>): Promise<{ error: ProsaError; ms: number }> {
  const started = Date.now();
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProsaError);
    return { error: e as ProsaError, ms: Date.now() - started };
  }
  throw new Error('expected a ProsaError, but it resolved');
}
