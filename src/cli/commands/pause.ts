/** `prosa pause <name>`: stops a worker after its batch at hand, until `prosa resume`. */
import type { Command } from 'commander';
import { pauseWorker } from '../../internal.js';
import type { CliContext } from '../context.js';

export function registerPause(command: Command, ctx: CliContext): void {
  command
    .argument('<name>')
    .option('--reason <text>', 'shown by prosa status', 'paused by an operator')
    .action((name: string, opts: { reason: string }) =>
      ctx.admin(async (c) => ctx.print(JSON.stringify(await pauseWorker(c, name, opts.reason)))),
    );
}
