/** `prosa streams apply|ls`: the streams the config declares. */
import type { Command } from 'commander';
import { applyStreams, listStreams } from '../../internal.js';
import { connect } from '../connect.js';
import type { CliContext } from '../context.js';

export function registerStreams(command: Command, ctx: CliContext): void {
  command
    .command('apply')
    .description('create missing streams and update managed ones to match the config')
    .action(async () => {
      const c = await ctx.config();
      const log = ctx.quietLog(c);
      const conn = await connect(c, log, true);
      try {
        for (const r of await applyStreams(conn.jsm, c.streams, log)) ctx.io.out(`${JSON.stringify(r)}\n`);
      } finally {
        await conn.nc.close();
      }
    });
  command
    .command('ls')
    .description('list the configured streams with their state')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const c = await ctx.config();
      const conn = await connect(c, ctx.quietLog(c), true);
      try {
        const list = await listStreams(conn.jsm, c.streams);
        ctx.io.out(
          opts.json
            ? `${JSON.stringify(list, null, 2)}\n`
            : `${list.map((s) => JSON.stringify(s)).join('\n')}\n`,
        );
      } finally {
        await conn.nc.close();
      }
    });
}
