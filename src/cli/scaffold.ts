/**
 * `prosa init`: writes a project that runs as written (`npm install && npm start`, `npm test`) from
 * the templates shipped in the package (templates/init/), with a package.json that depends on this
 * version of prosa and on the versions of xstate, fast-check and vitest prosa is built with.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ScaffoldOptions {
  /** The project folder; created when absent. */
  dir: string;
  /** The `prosa` dependency. @default `^<this version>` */
  prosaSpec?: string;
  /** Write into a folder that is not empty (files of the same name are replaced). */
  force?: boolean;
}

export interface ScaffoldResult {
  dir: string;
  /** Relative paths, sorted. */
  files: string[];
}

interface PackageJson {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

/** The package's own folder: the nearest package.json above this module (src/ or dist/src/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('prosa init: cannot find the prosa package folder');
    dir = up;
  }
  return dir;
}

function filesIn(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesIn(path) : [path];
  });
}

/** A folder name as an npm package name. */
const packageName = (dir: string) =>
  basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '') || 'prosa-project';

function projectPackageJson(dir: string, prosa: PackageJson, prosaSpec: string): string {
  const version = (name: string) => prosa.dependencies[name] ?? prosa.devDependencies[name] ?? '*';
  const pkg = {
    name: packageName(dir),
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: { start: 'prosa run', test: 'vitest run', typecheck: 'tsc' },
    dependencies: { prosa: prosaSpec, 'fast-check': version('fast-check'), xstate: version('xstate') },
    devDependencies: {
      '@types/node': version('@types/node'),
      typescript: version('typescript'),
      vitest: version('vitest'),
    },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/** Writes the project; refuses a folder that is not empty unless `force`. */
export function scaffoldProject(options: ScaffoldOptions): ScaffoldResult {
  const dir = resolve(options.dir);
  if (existsSync(dir) && readdirSync(dir).length > 0 && !options.force) {
    throw new Error(`${dir} is not empty; choose an empty folder, or pass --force to write into it anyway`);
  }
  const root = packageRoot();
  const templates = join(root, 'templates', 'init');
  const prosa = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  const written: string[] = [];
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
    written.push(path);
  };
  for (const file of filesIn(templates)) {
    const path = relative(templates, file);
    // npm leaves .gitignore files out of a package: it is shipped as `gitignore`.
    write(path === 'gitignore' ? '.gitignore' : path, readFileSync(file, 'utf8'));
  }
  write('package.json', projectPackageJson(dir, prosa, options.prosaSpec ?? `^${prosa.version}`));
  return { dir, files: written.sort() };
}
