/** `prosa rebuild <projection>`: a new model beside the live one, swapped in atomically. */
import type { Command } from 'commander';
import {
  formatDuration,
  limitHeapGrowth,
  openDatabase,
  ProsaError,
  rebuildProjection,
  sendControl,
} from '../../internal.js';
import { positiveInt } from '../args.js';
import { connect } from '../connect.js';
import type { CliContext } from '../context.js';
import { rebuildProgress } from '../format/progress.js';

export function registerRebuild(command: Command, ctx: CliContext): void {
  command
    .argument('<projection>')
    .option('--batch <n>', 'messages per transaction', positiveInt('--batch'), 100_000)
    .action(async (name: string, opts: { batch: number }) => {
      const c = await ctx.config();
      const definition = c.projections.find((p) => p.name === name);
      if (!definition) {
        throw new ProsaError(
          'PROSA_NOT_FOUND',
          `no projection named "${name}" (configured: ${c.projections.map((p) => p.name).join(', ') || 'none'}); sagas are reset with \`prosa reset\``,
        );
      }
      limitHeapGrowth(c.heapGrowthPercent);
      const log = ctx.quietLog(c);
      const conn = await connect(c, log, true);
      const db = openDatabase(c.sqlitePath);
      const progress = rebuildProgress(name, ctx.tty, ctx.io.out);
      let pausedHere = false;
      try {
        const result = await rebuildProjection({
          definition,
          db,
          sqlitePath: c.sqlitePath,
          js: conn.js,
          jsm: conn.jsm,
          log,
          batchSize: opts.batch,
          deadLetters: c.workers[name]?.deadLetters,
          consumer: c.workers[name]?.consumer ?? name,
          reason: 'prosa rebuild',
          onProgress: progress.onProgress,
          // The live worker of the same projection (perhaps in another process) holds still for the
          // swap; one an operator paused stays paused after it.
          pauseLive: async () => {
            const ping = await sendControl(conn.nc, name, 'ping');
            if ((ping?.result as { state?: string } | undefined)?.state === 'paused') return;
            const reply = await sendControl(conn.nc, name, 'pause', {
              reason: 'rebuild: swapping in the new model',
              byPid: process.pid,
            });
            pausedHere = reply?.ok === true;
          },
          resumeLive: async () => {
            if (pausedHere) await sendControl(conn.nc, name, 'resume');
          },
        });
        progress.stop();
        ctx.io.out(
          `rebuilt ${name}: ${result.applied} events in ${formatDuration(result.ms)}${result.resumed ? ' (resumed an interrupted rebuild)' : ''}; live at ${result.checkpoint}\n`,
        );
      } finally {
        progress.stop();
        db.close();
        await conn.nc.close();
      }
    });
}
