/** `prosa resume <name>`: a paused or stopped worker consumes again from its checkpoint. */
import type { Command } from 'commander';
import { resumeWorker } from '../../internal.js';
import type { CliContext } from '../context.js';

export function registerResume(program: Command, ctx: CliContext): void {
  program
    .command('resume')
    .description('resume a paused or stopped projection or saga from its checkpoint')
    .argument('<name>')
    .action((name: string) => ctx.admin(async (c) => ctx.print(JSON.stringify(await resumeWorker(c, name)))));
}
