/** `prosa run`: the runtime in the foreground until SIGINT/SIGTERM, then a bounded drain. */
import type { Command } from 'commander';
import { createLogger, createRuntime, ProsaError, splitNames } from '../../internal.js';
import type { CliContext } from '../context.js';

export function registerRun(command: Command, ctx: CliContext): void {
  command
    .option(
      '--only <names>',
      'run only these projections and sagas (comma separated; PROSA_ONLY): others run in other processes on the same database',
    )
    .action(async (opts: { only?: string }) => {
      const c = await ctx.config();
      // createRuntime runs the workers `only` names (and refuses a name the config does not have).
      const runtime = createRuntime(opts.only === undefined ? c : { ...c, only: splitNames(opts.only) });
      const stopSignal = ctx.io.stopSignal ?? new Promise<string>(() => {});
      // A signal while the start still waits for NATS must not wait for NATS: the drain ends the
      // wait (and lets the rest of a start under way finish first). A failed start still throws.
      const signal =
        (await Promise.race([runtime.start().then(() => undefined), stopSignal])) ?? (await stopSignal);
      const log = createLogger({ level: c.logLevel });
      log.info({ signal }, 'draining: finishing the batch at hand, then exiting');
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000).unref());
      if ((await Promise.race([runtime.drain(), timeout])) === 'timeout') {
        throw new ProsaError(
          'PROSA_TIMEOUT',
          'drain took longer than 10 s; exiting anyway (uncommitted work is redelivered)',
        );
      }
    });
}
