/** `prosa handover <saga>`: the process holding the saga's lease gives it up; a standby takes over at once. */
import type { Command } from 'commander';
import { handoverSaga } from '../../internal.js';
import type { CliContext } from '../context.js';

export function registerHandover(command: Command, ctx: CliContext): void {
  command
    .argument('<saga>')
    .action((name: string) =>
      ctx.admin(async (c) => ctx.print(JSON.stringify(await handoverSaga(c, name))), true),
    );
}
