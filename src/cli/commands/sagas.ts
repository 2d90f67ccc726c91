/** `prosa sagas ls|cancel-timeout`: a saga's live instances and their pending timeouts. */
import type { Command } from 'commander';
import { cancelTimeout, sagaInstances } from '../../internal.js';
import type { CliContext } from '../context.js';
import { formatSagaInstances } from '../format/sagaInstances.js';

export function registerSagas(command: Command, ctx: CliContext): void {
  command
    .command('ls')
    .description('live instances of a saga with their state and pending timeouts')
    .argument('<saga>')
    .option('--json', 'print JSON')
    .action((saga: string, opts: { json?: boolean }) =>
      ctx.admin((c) => {
        const list = sagaInstances(c, saga);
        if (opts.json) ctx.print(list, true);
        else ctx.io.out(formatSagaInstances(saga, list));
      }),
    );
  command
    .command('cancel-timeout')
    .description('cancel a pending timeout of a saga instance so it never fires')
    .argument('<saga>')
    .argument('<instance>')
    .argument('<timeout>')
    .action((saga: string, instance: string, timeout: string) =>
      ctx.admin((c) => ctx.print(JSON.stringify(cancelTimeout(c, saga, instance, timeout)))),
    );
}
