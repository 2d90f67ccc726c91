/** `prosa reset <saga> --to-seq N`: moves a saga's checkpoint (projections are rebuilt instead). */
import type { Command } from 'commander';
import { resetSaga } from '../../internal.js';
import { positiveInt } from '../args.js';
import type { CliContext } from '../context.js';

export function registerReset(command: Command, ctx: CliContext): void {
  command
    .argument('<saga>')
    .requiredOption('--to-seq <n>', 'the new checkpoint (0: from the start)', positiveInt('--to-seq'))
    .action((name: string, opts: { toSeq: number }) =>
      ctx.admin(async (c) => ctx.print(JSON.stringify(await resetSaga(c, name, opts.toSeq)))),
    );
}
