/**
 * npm run bench [-- --json] [-- --only NAME[,NAME]]
 *
 * Runs every benchmark program in test/bench/*.bench.ts, each against its own real nats-server, and
 * prints their tables (or, with --json, one JSON object keyed by benchmark). Benchmarks are programs,
 * not tests: figures and ratios are printed, never asserted. These machines are noisy; compare the
 * ratios within one run.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface BenchModule {
  run(opts: { json: boolean; quick?: boolean }): Promise<Record<string, unknown>>;
}

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(
    'usage: npm run bench [-- --json] [-- --only eventStore,projection,scale] [-- --quick] [-- --events N (scale)]\n',
  );
  process.exit(0);
}
const json = argv.includes('--json');
const quick = argv.includes('--quick');
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? '').split(',').filter(Boolean) : [];

const dir = dirname(fileURLToPath(import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();
const results: Record<string, unknown> = {};
for (const file of files) {
  const name = file.replace(/\.bench\.ts$/, '');
  if (only.length > 0 && !only.includes(name)) continue;
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as BenchModule;
  if (!json) process.stdout.write(`\n## ${name}\n`);
  results[name] = await mod.run({ json, quick });
}
if (json)
  process.stdout.write(
    `${JSON.stringify({ node: process.version, at: new Date().toISOString(), results }, null, 2)}\n`,
  );
process.exit(0);
