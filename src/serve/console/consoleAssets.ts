/**
 * The page's static files: the package's `console/` folder (plain ES modules, no build step) and
 * cytoscape's ES module from node_modules for the topology graph. Found from this module's place,
 * in the sources and in an installed package alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProsaError } from '../../errors.js';

export interface Asset {
  type: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The package's `console/` folder: the first one up from here that holds index.html. */
function findConsoleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'console');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    dir = dirname(dir);
  }
  throw new ProsaError(
    'PROSA_NOT_FOUND',
    "the console's files (console/index.html) are missing from the package; reinstall prosa, or set http.console.enabled: false",
  );
}

function findCytoscape(): string {
  const main = createRequire(import.meta.url).resolve('cytoscape');
  return join(dirname(main), 'cytoscape.esm.min.mjs');
}

/** Serves `/` and `/console/...` from the package, read once and kept in memory. */
export function createAssets() {
  const root = findConsoleDir();
  const cache = new Map<string, Asset>();
  const read = (file: string): Asset | undefined => {
    const hit = cache.get(file);
    if (hit) return hit;
    if (!existsSync(file)) return undefined;
    const asset = { type: TYPES[extname(file)] ?? 'application/octet-stream', body: readFileSync(file) };
    cache.set(file, asset);
    return asset;
  };
  return {
    /** The asset at a URL path, or undefined (no path leaves the console folder). */
    get(path: string): Asset | undefined {
      if (path === '/' || path === '/index.html') return read(join(root, 'index.html'));
      if (path === '/console/vendor/cytoscape.mjs') return read(findCytoscape());
      if (!path.startsWith('/console/')) return undefined;
      const file = resolve(root, `.${decodeURIComponent(path.slice('/console'.length))}`);
      if (!file.startsWith(root + sep)) return undefined;
      return read(file);
    },
  };
}

export type Assets = ReturnType<typeof createAssets>;
