/** `prosa init [dir]`: scaffolds a project that uses prosa. */
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { fail } from '../io.js';
import { scaffoldProject } from '../scaffold.js';

export function registerInit(command: Command, ctx: CliContext): void {
  command
    .argument('[dir]', 'the project folder (created when absent)', '.')
    .option('--force', 'write into a folder that is not empty')
    .option('--prosa <spec>', 'the prosa dependency of package.json (a version range, a tarball path, ...)')
    .action((dir: string, opts: { force?: boolean; prosa?: string }) => {
      const cwd = ctx.io.cwd ?? process.cwd();
      let result: ReturnType<typeof scaffoldProject>;
      try {
        result = scaffoldProject({
          dir: resolve(cwd, dir),
          ...(opts.prosa === undefined ? {} : { prosaSpec: opts.prosa }),
          ...(opts.force ? { force: true } : {}),
        });
      } catch (e) {
        throw fail('initRefused', (e as Error).message);
      }
      const rel = relative(cwd, result.dir);
      const where = rel.startsWith('..') ? result.dir : rel || '.';
      ctx.io.out(
        `created a prosa project in ${result.dir}:\n${result.files.map((f) => `  ${f}`).join('\n')}\n\n` +
          `next:\n${where === '.' ? '' : `  cd ${where}\n`}  npm install && npm test   # the projection's proof\n` +
          '  npm start                  # runs it on an embedded nats-server\n',
      );
    });
}
