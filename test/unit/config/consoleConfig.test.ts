import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/config.js';
import { ConfigError } from '../../../src/errors.js';

const resolve = (input: unknown, env: Record<string, string> = {}) =>
  resolveConfig(input, { env, cwd: '/srv/app' });

describe('console configuration', () => {
  it('is on, open to reads and without a token by default', () => {
    expect(resolve({}).http.console).toEqual({ enabled: true, protectReads: false });
  });

  it('takes the token from PROSA_CONSOLE_TOKEN over the config', () => {
    const c = resolve(
      { http: { console: { token: 'from-the-config-file-0001' } } },
      { PROSA_CONSOLE_TOKEN: 'from-the-environment-0001' },
    );
    expect(c.http.console.token).toBe('from-the-environment-0001');
    expect(c.http.port).toBe(9464);
  });

  it('refuses a short token without echoing it', () => {
    const e = (() => {
      try {
        resolve({}, { PROSA_CONSOLE_TOKEN: 'short' });
      } catch (x) {
        return x as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.issues[0]).toMatchObject({ path: 'http.console.token' });
    expect(e.message).toMatch(/at least 16 characters/);
    expect(e.message).not.toContain('short');
  });

  it('refuses guarded reads without a token', () => {
    expect(() => resolve({ http: { console: { protectReads: true } } })).toThrow(
      /http.console.protectReads: reads can only be guarded by a token/,
    );
  });
});
