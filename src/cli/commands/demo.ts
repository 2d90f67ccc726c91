/** `prosa demo`: publishes a generated data centre as CIM infrastructure events. */
import type { Command } from 'commander';
import { applyStreams, formatDuration, publishDemo } from '../../internal.js';
import { positiveInt, positiveNumber } from '../args.js';
import { connect } from '../connect.js';
import type { CliContext } from '../context.js';
import { demoProgress } from '../format/progress.js';

export function registerDemo(command: Command, ctx: CliContext): void {
  command
    .option('--events <n>', 'how many events', positiveInt('--events'), 2_000)
    .option(
      '--rate <r>',
      'at most this many events per second (default: as fast as the server acks)',
      positiveNumber('--rate'),
    )
    .option('--seed <n>', 'which story: the same seed tells the same story', positiveInt('--seed'), 1)
    .action(async (opts: { events: number; rate?: number; seed: number }) => {
      const c = await ctx.config();
      const log = ctx.quietLog(c);
      const conn = await connect(c, log, true);
      const progress = demoProgress(opts.events, ctx.tty, ctx.io.out);
      // Ctrl-C stops publishing; what is in flight is still acknowledged and counted.
      const stop = new AbortController();
      void ctx.io.stopSignal?.then(() => stop.abort());
      try {
        // Get-or-create, as the crate does: created with the configured settings if absent, never changed.
        const stream = c.streams.INFRASTRUCTURE_EVENTS;
        if (stream) await applyStreams(conn.jsm, { INFRASTRUCTURE_EVENTS: stream }, log);
        const result = await publishDemo({
          js: conn.js,
          events: opts.events,
          seed: opts.seed,
          ...(opts.rate === undefined ? {} : { rate: opts.rate }),
          signal: stop.signal,
          onProgress: progress.onProgress,
        });
        progress.stop();
        const rate = Math.round((result.published * 1_000) / Math.max(1, result.ms));
        ctx.io.out(
          `published ${result.published} demo events to INFRASTRUCTURE_EVENTS in ${formatDuration(result.ms)} (${rate} ev/s); see the topology with \`prosa topology\`\n`,
        );
      } finally {
        progress.stop();
        await conn.nc.close();
      }
    });
}
