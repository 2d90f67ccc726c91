/** `prosa doctor`: checks the setup and prints the fix for each failure; exit 1 when any failed. */
import type { Command } from 'commander';
import { formatDoctor, runDoctor } from '../../internal.js';
import type { CliContext } from '../context.js';
import { fail } from '../io.js';

export function registerDoctor(command: Command, ctx: CliContext): void {
  command.action(async () => {
    const c = await ctx.config();
    const checks = await runDoctor(c, { log: ctx.quietLog(c) });
    ctx.io.out(formatDoctor(checks));
    if (checks.some((check) => !check.ok)) throw fail('doctorFailed', 'doctor found problems');
  });
}
