/** `prosa pause <name>`: stops a worker after its batch at hand, until `prosa resume`. */
import type { Command } from 'commander';
import { pauseWorker } from '../../internal.js';
import type { CliContext } from '../context.js';

export function registerPause(program: Command, ctx: CliContext): void {
  program
    .command('pause')
    .description('stop a projection or saga after its batch at hand (kept across restarts until resumed)')
    .argument('<name>')
    .option('--reason <text>', 'shown by prosa status', 'paused by an operator')
    .action((name: string, opts: { reason: string }) =>
      ctx.admin(async (c) => ctx.print(JSON.stringify(await pauseWorker(c, name, opts.reason)))),
    );
}
