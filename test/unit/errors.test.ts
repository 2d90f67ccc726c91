import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, errorCodes, ProsaError, VersionConflictError } from '../../src/errors.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('errors', () => {
  describe('when the README error table is read', () => {
    it('lists every code with what happened and how to fix it', () => {
      for (const code of Object.keys(errorCodes)) {
        expect(readme, `README.md has no row for ${code}`).toMatch(
          new RegExp(`^\\| \`${code}\` \\|[^|]+\\|[^|]+\\|$`, 'm'),
        );
      }
    });
    it('lists no code that does not exist', () => {
      const listed = [...readme.matchAll(/^\| `(PROSA_[A-Z_]+)` \|/gm)].map((m) => m[1]);
      expect(listed.filter((c) => !(c && c in errorCodes))).toEqual([]);
    });
  });

  describe('when an error is made', () => {
    it('has a name, a stable code and a message that says what to do', () => {
      const e = new VersionConflictError('a1', 2, 3);
      expect(e).toBeInstanceOf(ProsaError);
      expect(e.name).toBe('VersionConflictError');
      expect(e.code).toBe('PROSA_VERSION_CONFLICT');
      expect(e.message).toBe(
        'aggregate a1: expected version 2, but it is at version 3; read the aggregate again, decide again, and append with the new version',
      );
    });
    it('names each bad field of a config', () => {
      const e = new ConfigError([{ path: 'http.port', message: 'must be a port 0-65535' }]);
      expect(e.message).toBe(
        'invalid configuration (runtime.config.ts):\n  http.port: must be a port 0-65535',
      );
    });
  });
});
