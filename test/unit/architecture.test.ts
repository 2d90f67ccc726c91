// The structure docs/architecture.md describes, kept by the build: each folder of src/ imports only
// the folders below it, no module cycle, and no file or function too long to read.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');

/**
 * What each part of src/ may import besides itself, lowest first. `base` is the root's leaf
 * modules (errors, logger, defaults) and time/; the entries (index, internal) may import anything.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  base: [],
  define: ['base'],
  config: ['base', 'define'],
  store: ['base'],
  nats: ['base', 'define', 'config'],
  cim: ['base', 'define'],
  eventStore: ['base', 'cim'],
  engine: ['base', 'define', 'store'],
  ops: ['base', 'define', 'config', 'store', 'nats', 'cim', 'engine'],
  serve: ['base', 'store', 'ops'],
  runtime: ['base', 'define', 'config', 'store', 'nats', 'engine', 'ops', 'serve'],
  // The CLI and the kit take what they use of the layers below from src/internal.ts, one list.
  cli: ['entry'],
  testkit: ['entry'],
  entry: ['*'],
};
const BASE_FILES = new Set(['errors.ts', 'logger.ts', 'defaults.ts']);
const ENTRY_FILES = new Set(['index.ts', 'internal.ts']);

const MAX_ROOT_FILES = 8;
const MAX_FILE_LINES = 600;
const MAX_FUNCTION_LINES = 150;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path);
    return /\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function partOf(file: string): string {
  const rel = relative(SRC, file);
  const [head] = rel.split('/');
  if (rel === head) {
    if (BASE_FILES.has(rel)) return 'base';
    if (ENTRY_FILES.has(rel)) return 'entry';
    return `root:${rel}`;
  }
  return head === 'time' ? 'base' : (head as string);
}

/** Relative imports of a module, static and dynamic, type-only included, resolved to files. */
function importsOf(file: string, source: ts.SourceFile): string[] {
  const specs: string[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) specs.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      specs.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) =>
      resolve(dirname(file), s)
        .replace(/\.js$/, '.ts')
        .replace(/\.mjs$/, '.mts'),
    );
}

function functionsOf(source: ts.SourceFile): { name: string; lines: number; line: number }[] {
  const found: { name: string; lines: number; line: number }[] = [];
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = lineOf(node.getStart(source));
      const lines = lineOf(node.getEnd()) - start + 1;
      const named = node.name && ts.isIdentifier(node.name) ? node.name.text : undefined;
      const parent = node.parent;
      const name =
        named ??
        (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)
          ? parent.name.text
          : ts.isConstructorDeclaration(node)
            ? 'constructor'
            : '(anonymous)');
      found.push({ name, lines, line: start });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const sources = new Map(
  filesUnder(SRC).map((file) => [
    file,
    ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true),
  ]),
);
const graph = new Map([...sources].map(([file, source]) => [file, importsOf(file, source)]));

describe('the architecture of src/', () => {
  it('has each folder import only the folders below it', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      const from = partOf(file);
      const allowed = MAY_IMPORT[from];
      for (const target of targets) {
        if (!target.startsWith(SRC)) continue;
        const to = partOf(target);
        if (to === from) continue;
        if (allowed?.includes('*') || allowed?.includes(to)) continue;
        upward.push(`${relative(ROOT, file)} (${from}) imports ${relative(ROOT, target)} (${to})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no import cycle between modules', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const walk = (file: string) => {
      state.set(file, 'open');
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (!graph.has(next)) continue;
        if (state.get(next) === 'open') {
          const cycle = stack.slice(stack.indexOf(next)).concat(next);
          cycles.push(cycle.map((f) => relative(SRC, f)).join(' -> '));
        } else if (!state.has(next)) walk(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) walk(file);
    expect(cycles).toEqual([]);
  });

  it(`keeps at most ${MAX_ROOT_FILES} files at the root of src/`, () => {
    const root = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isFile());
    expect(root.length, root.join(', ')).toBeLessThanOrEqual(MAX_ROOT_FILES);
  });
});

describe('the size of a unit', () => {
  const dirs = ['src', 'machines', 'projections', 'sagas'].map((d) => join(ROOT, d));
  const files = dirs.flatMap(filesUnder);

  it(`has no file over ${MAX_FILE_LINES} lines`, () => {
    const long = files
      .map((f) => ({ file: relative(ROOT, f), lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter((f) => f.lines > MAX_FILE_LINES);
    expect(long).toEqual([]);
  });

  it(`has no function over ${MAX_FUNCTION_LINES} lines`, () => {
    const long = files.flatMap((f) => {
      const source =
        sources.get(f) ?? ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.ES2022, true);
      return functionsOf(source)
        .filter((fn) => fn.lines > MAX_FUNCTION_LINES)
        .map((fn) => `${relative(ROOT, f)}:${fn.line} ${fn.name} (${fn.lines} lines)`);
    });
    expect(long).toEqual([]);
  });
});
