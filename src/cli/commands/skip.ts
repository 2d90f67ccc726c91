/** `prosa skip <name> --seq N`: dead-letters the message a stopped worker is stuck on, then resumes it. */
import type { Command } from 'commander';
import { skipMessage } from '../../internal.js';
import { positiveInt } from '../args.js';
import type { CliContext } from '../context.js';

export function registerSkip(command: Command, ctx: CliContext): void {
  command
    .argument('<name>')
    .requiredOption('--seq <n>', 'the stream sequence of the bad message', positiveInt('--seq'))
    .action((name: string, opts: { seq: number }) =>
      ctx.admin(async (c) => ctx.print(JSON.stringify(await skipMessage(c, name, opts.seq)))),
    );
}
