import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_FILES, findConfigFile, loadConfig } from '../../../src/config/loadConfig.js';
import { ProsaError } from '../../../src/errors.js';

const project = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'prosa-config-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
};
const natsUrlConfig = (port: number, typed = false) =>
  `const port${typed ? ': number' : ''} = ${port};\nexport default { nats: { url: "nats://127.0.0.1:" + port } };\n`;

describe('when runtime.config.ts is loaded', () => {
  it('loads TypeScript through tsx', async () => {
    const dir = project({ 'runtime.config.ts': natsUrlConfig(4333, true) });
    const c = await loadConfig('runtime.config.ts', { cwd: dir, env: {} });
    expect(c.nats.url).toBe('nats://127.0.0.1:4333');
  });
  it('fails with a minimal working config when the file has no default export', async () => {
    const dir = project({ 'runtime.config.ts': 'export const x = 1;\n' });
    const err = await loadConfig('runtime.config.ts', { cwd: dir, env: {} }).catch((e) => e);
    expect(err).toBeInstanceOf(ProsaError);
    expect(err.code).toBe('PROSA_CONFIG_MISSING');
    expect(err.message).toContain('has no default export. A minimal working config:');
    expect(err.message).toContain('defineConfig');
  });
});

describe('which config file is loaded', () => {
  it('looks for runtime.config.ts, .mts, .js and .mjs, in that order', () => {
    expect(CONFIG_FILES).toEqual([
      'runtime.config.ts',
      'runtime.config.mts',
      'runtime.config.js',
      'runtime.config.mjs',
    ]);
    const all = project(Object.fromEntries(CONFIG_FILES.map((name) => [name, ''])));
    expect(findConfigFile(undefined, all)).toBe(join(all, 'runtime.config.ts'));
    const some = project({ 'runtime.config.mjs': '', 'runtime.config.js': '', 'runtime.config.mts': '' });
    expect(findConfigFile(undefined, some)).toBe(join(some, 'runtime.config.mts'));
    const js = project({ 'runtime.config.mjs': '', 'runtime.config.js': '' });
    expect(findConfigFile(undefined, js)).toBe(join(js, 'runtime.config.js'));
  });

  it.each([
    ['runtime.config.ts', natsUrlConfig(4101, true)],
    ['runtime.config.mts', natsUrlConfig(4102, true)],
    ['runtime.config.js', natsUrlConfig(4103)],
    ['runtime.config.mjs', natsUrlConfig(4104)],
  ])('loads %s when it is the only one', async (name, text) => {
    const dir = project({
      'package.json': '{ "type": "module" }\n',
      [name]: text,
    });
    const c = await loadConfig(undefined, { cwd: dir, env: {} });
    expect(c.nats.url).toBe(`nats://127.0.0.1:${text.match(/= (\d+);/)?.[1]}`);
    expect(c.source).toBe(name);
  });

  it('loads the file given with --config instead, whatever its name', async () => {
    const dir = project({
      'runtime.config.ts': natsUrlConfig(4201, true),
      'staging.config.mjs': natsUrlConfig(4202),
    });
    const c = await loadConfig('staging.config.mjs', { cwd: dir, env: {} });
    expect(c.nats.url).toBe('nats://127.0.0.1:4202');
  });

  it('names every file it looked for when there is none', async () => {
    const dir = project({ 'package.json': '{}\n' });
    const err = await loadConfig(undefined, { cwd: dir, env: {} }).catch((e) => e);
    expect(err).toBeInstanceOf(ProsaError);
    expect(err.code).toBe('PROSA_CONFIG_MISSING');
    expect(err.message).toContain(
      `no runtime config in ${dir}: looked for runtime.config.ts, runtime.config.mts, runtime.config.js, runtime.config.mjs`,
    );
    expect(err.message).toContain('prosa init');
  });

  it('says a file given with --config does not exist', async () => {
    const dir = project({});
    const err = await loadConfig('nowhere.config.mjs', { cwd: dir, env: {} }).catch((e) => e);
    expect(err.code).toBe('PROSA_CONFIG_MISSING');
    expect(err.message).toContain(`${join(dir, 'nowhere.config.mjs')} does not exist`);
  });
});
