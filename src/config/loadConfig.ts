/**
 * Finds and imports the runtime config: TypeScript (`runtime.config.ts`, `.mts`) or JavaScript
 * (`runtime.config.js`, `.mjs`), the first found in that order, or the file given. A JavaScript
 * config is a plain import; tsx is registered only when a TypeScript one has to be loaded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ProsaError } from '../errors.js';
import { isPlainObject, type ResolveConfigOptions, type ResolvedConfig, resolveConfig } from './config.js';

/** The names looked for in the project folder, in this order. */
export const CONFIG_FILES = [
  'runtime.config.ts',
  'runtime.config.mts',
  'runtime.config.js',
  'runtime.config.mjs',
] as const;

export const MINIMAL_CONFIG = `// runtime.config.ts (or runtime.config.mjs: the same without types)
import { defineConfig } from 'prosa';
import { topology } from 'prosa/cim';

export default defineConfig({
  projections: [topology],
});
`;

/** The config file to load: `file` when given (relative to `cwd`), else the first of CONFIG_FILES present. */
export function findConfigFile(file: string | undefined, cwd: string): string {
  if (file !== undefined) {
    const path = isAbsolute(file) ? file : resolve(cwd, file);
    if (existsSync(path)) return path;
    throw new ProsaError(
      'PROSA_CONFIG_MISSING',
      `${path} does not exist. A minimal working config:\n\n${MINIMAL_CONFIG}`,
    );
  }
  for (const name of CONFIG_FILES) {
    const path = resolve(cwd, name);
    if (existsSync(path)) return path;
  }
  throw new ProsaError(
    'PROSA_CONFIG_MISSING',
    `no runtime config in ${cwd}: looked for ${CONFIG_FILES.join(', ')} (or give one with --config <file>). ` +
      `\`prosa init\` scaffolds a project; a minimal working config:\n\n${MINIMAL_CONFIG}`,
  );
}

/** Loads the runtime config (see CONFIG_FILES), validates and freezes it. */
export async function loadConfig(file?: string, options: ResolveConfigOptions = {}): Promise<ResolvedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const path = findConfigFile(file, cwd);
  const mod = (await importConfigModule(pathToFileURL(path).href)) as { default?: unknown };
  let exported = mod.default;
  // Outside a "type": "module" package the file loads as CommonJS: its exports arrive wrapped.
  if (isPlainObject(exported) && exported.__esModule === true) exported = exported.default;
  if (exported === undefined) {
    throw new ProsaError(
      'PROSA_CONFIG_MISSING',
      `${path} has no default export. A minimal working config:\n\n${MINIMAL_CONFIG}`,
    );
  }
  return resolveConfig(exported, { ...options, cwd, source: file ?? relativeName(path, cwd) });
}

const relativeName = (path: string, cwd: string) =>
  path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path;

/**
 * Imports the config into this module graph, so its projections and sagas share prosa's module
 * instances (a scoped loader would give them copies). JavaScript, and TypeScript where it already
 * loads (vitest, the repository's bin), is a plain import; otherwise tsx's loader is registered once.
 */
async function importConfigModule(url: string): Promise<unknown> {
  // A TypeScript config in a CommonJS package goes to tsx's scoped import at once (see below).
  if (url.endsWith('.ts') && !inModulePackage(fileURLToPath(url))) {
    const { tsImport } = await import('tsx/esm/api');
    return tsImport(url, import.meta.url);
  }
  try {
    return await import(url);
  } catch (e) {
    if (codeOf(e) === 'ERR_UNKNOWN_FILE_EXTENSION') {
      const { register } = await import('tsx/esm/api');
      register();
      try {
        // Node keeps the failed import of `url`: a query makes it a new module.
        return await import(`${url}?typescript`);
      } catch (again) {
        if (!loadsAsCommonJs(again)) throw again;
      }
    } else if (!loadsAsCommonJs(e)) throw e;
    // A config outside a "type": "module" package loads as CommonJS, which cannot require prosa's
    // ESM graph (Node 20 even fails an internal assertion): tsx's scoped import can (the effect
    // sink in src/define/saga.ts tolerates its module copies).
    const { tsImport } = await import('tsx/esm/api');
    return tsImport(url, import.meta.url);
  }
}

/** Whether the nearest package.json above `file` says "type": "module". */
function inModulePackage(file: string): boolean {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type === 'module';
      } catch {
        return false;
      }
    }
    if (dirname(dir) === dir) return false;
  }
}

const codeOf = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? '';
const loadsAsCommonJs = (e: unknown): boolean =>
  codeOf(e).startsWith('ERR_REQUIRE') || codeOf(e) === 'ERR_INTERNAL_ASSERTION';
