/** `prosa resume <name>`: a paused or stopped worker consumes again from its checkpoint. */
import type { Command } from 'commander';
import { resumeWorker } from '../../internal.js';
import type { CliContext } from '../context.js';

export function registerResume(command: Command, ctx: CliContext): void {
  command
    .argument('<name>')
    .action((name: string) => ctx.admin(async (c) => ctx.print(JSON.stringify(await resumeWorker(c, name)))));
}
