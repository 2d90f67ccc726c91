/** `prosa dlq ls|retry|skip|purge`: dead letters, events a worker could not decode or apply. */
import { type Command, CommanderError } from 'commander';
import { deadLetters, purgeDeadLettersOf, retryDeadLetters, skipDeadLetter } from '../../internal.js';
import { positiveInt } from '../args.js';
import type { CliContext } from '../context.js';
import { deadLettersAsJson, formatDeadLetters, formatRetry, formatSkip } from '../format/deadLetters.js';
import { EXIT } from '../io.js';

export function registerDlq(command: Command, ctx: CliContext): void {
  command
    .command('ls')
    .description('list dead letters with their reasons and how many events wait behind each')
    .option('--json', 'print JSON')
    .option('--consumer <name>', 'only this consumer')
    .action((opts: { json?: boolean; consumer?: string }) =>
      ctx.admin(async (c) => {
        const entries = await deadLetters(c, opts.consumer);
        if (opts.json) ctx.print(deadLettersAsJson(entries), true);
        else ctx.io.out(formatDeadLetters(entries));
      }, true),
    );
  command
    .command('retry')
    .description(
      'feed dead letters again to their consumer after a fix: each is applied once, or dead-lettered again with the new reason',
    )
    .argument('<consumer>')
    .option('--seq <n>', 'only the one with this stream sequence', positiveInt('--seq'))
    .option('--all', 'all of them')
    .action((consumer: string, opts: { seq?: number; all?: boolean }) =>
      ctx.admin(async (c) => {
        if (opts.seq === undefined && !opts.all)
          throw new CommanderError(EXIT.usage, 'prosa.usage', 'dlq retry needs --seq N or --all');
        ctx.io.out(formatRetry(await retryDeadLetters(c, consumer, opts.seq)));
      }, true),
    );
  command
    .command('skip')
    .description(
      'give up on a dead letter: it is marked skipped, and the events of its entities that waited behind it apply in order',
    )
    .argument('<consumer>')
    .requiredOption('--seq <n>', 'the stream sequence of the dead letter', positiveInt('--seq'))
    .action((consumer: string, opts: { seq: number }) =>
      ctx.admin(async (c) => ctx.io.out(formatSkip(await skipDeadLetter(c, consumer, opts.seq)))),
    );
  command
    .command('purge')
    .description("remove a consumer's dead letters")
    .argument('<consumer>')
    .action((consumer: string) =>
      ctx.admin(
        async (c) => ctx.print(`purged ${await purgeDeadLettersOf(c, consumer)} dead letters of ${consumer}`),
        true,
      ),
    );
}
