import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';

const prosa = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));

async function init(args: string[], cwd: string) {
  let out = '';
  let err = '';
  const code = await main(['init', ...args], {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    cwd,
    env: {},
    tty: false,
  });
  return { code, out, err };
}

describe('prosa init', () => {
  it('writes a config, a projection with its machine, events and test, a README and a package.json', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'prosa-init-'));
    const r = await init(['my-app'], cwd);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const dir = join(cwd, 'my-app');
    for (const file of [
      '.gitignore',
      'README.md',
      'events/person.ts',
      'machines/person.ts',
      'package.json',
      'projections/people.ts',
      'runtime.config.ts',
      'test/people.test.ts',
      'test/peopleProof.ts',
      'tsconfig.json',
    ]) {
      expect(r.out).toContain(`  ${file}\n`);
    }
    expect(r.out).toContain('cd my-app\n');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({
      name: 'my-app',
      private: true,
      type: 'module',
      scripts: { start: 'prosa run', test: 'vitest run' },
      dependencies: {
        prosa: `^${prosa.version}`,
        xstate: prosa.dependencies.xstate,
        'fast-check': prosa.dependencies['fast-check'],
      },
      devDependencies: { vitest: prosa.devDependencies.vitest },
    });
    expect(readFileSync(join(dir, 'runtime.config.ts'), 'utf8')).toContain(
      "import people from './projections/people.js';",
    );
    expect(readFileSync(join(dir, 'test/people.test.ts'), 'utf8')).toContain(
      "import { checkProjection } from 'prosa/testkit';",
    );
    expect(readFileSync(join(dir, 'test/peopleProof.ts'), 'utf8')).toContain(
      "import { arbitraries, type StreamMessage } from 'prosa/testkit';",
    );
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toContain('.prosa/');
  });

  it('takes the prosa dependency from --prosa (a tarball for CI)', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'prosa-init-'));
    const r = await init(['.', '--prosa', 'file:/tmp/prosa-0.1.0.tgz'], cwd);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('cd ');
    const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
    expect(pkg.dependencies.prosa).toBe('file:/tmp/prosa-0.1.0.tgz');
  });

  it('refuses a folder that is not empty, unless --force', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'prosa-init-'));
    writeFileSync(join(cwd, 'notes.txt'), 'mine\n');
    const refused = await init([], cwd);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(`${cwd} is not empty`);
    expect(refused.err).toContain('--force');
    const forced = await init(['--force'], cwd);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(cwd, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(readFileSync(join(cwd, 'runtime.config.ts'), 'utf8')).toContain('defineConfig');
  });
});
