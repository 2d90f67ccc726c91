/** `prosa status`: one snapshot, a refreshing screen (`--watch`), or a wait until caught up. */
import type { Command } from 'commander';
import {
  ConfigError,
  collectStatus,
  defaults,
  formatDuration,
  isoNow,
  type Logger,
  openLeaseStore,
  parseDuration,
  type ResolvedConfig,
  type RuntimeStatus,
  systemClock,
} from '../../internal.js';
import { connect, openIfExists } from '../connect.js';
import type { CliContext } from '../context.js';
import { formatStatusTable } from '../format/statusTable.js';
import { fail } from '../io.js';
import { waitCaughtUp } from '../waitCaughtUp.js';

interface StatusOptions {
  json?: boolean;
  watch?: boolean | string;
  waitCaughtUp?: boolean;
  timeout: string;
}

export function registerStatus(command: Command, ctx: CliContext): void {
  command
    .option('--json', 'print one JSON object')
    .option('--watch [interval]', 'refresh until interrupted (default every 2s)')
    .option(
      '--wait-caught-up',
      "wait until every projection and saga has reached its stream's last sequence as of now",
    )
    .option('--timeout <duration>', 'with --wait-caught-up: how long to wait', '60s')
    .action(async (opts: StatusOptions) => {
      const c = await ctx.config();
      const log = ctx.quietLog(c);
      if (opts.waitCaughtUp) return untilCaughtUp(ctx, c, log, opts.timeout);
      const snapshot = async (): Promise<RuntimeStatus> => {
        const conn = await connect(c, log, false);
        const db = openIfExists(c);
        try {
          const leases =
            conn && c.sagas.length > 0
              ? await openLeaseStore(conn.js, defaults.leaseBucket, true).catch(() => undefined)
              : undefined;
          return await collectStatus({ config: c, db, jsm: conn?.jsm, ...(leases ? { leases } : {}) });
        } finally {
          db?.close();
          await conn?.nc.close();
        }
      };
      if (!opts.watch) {
        const s = await snapshot();
        ctx.io.out(opts.json ? `${JSON.stringify(s, null, 2)}\n` : formatStatusTable(s));
        return;
      }
      await watch(ctx, snapshot, opts);
    });
}

async function untilCaughtUp(
  ctx: CliContext,
  c: ResolvedConfig,
  log: Logger,
  timeout: string,
): Promise<void> {
  const timeoutMs = parseDuration(timeout);
  if (timeoutMs === undefined)
    throw new ConfigError(
      [{ path: '--timeout', message: `expected a duration like "60s", got ${timeout}` }],
      'command line',
    );
  const conn = await connect(c, log, true);
  try {
    const laggards = await waitCaughtUp(c, conn.jsm, timeoutMs);
    if (laggards.length > 0)
      throw fail('notCaughtUp', `not caught up after ${timeout}: ${laggards.join(', ')}`);
    ctx.io.out('caught up\n');
  } finally {
    await conn.nc.close();
  }
}

/** Prints a snapshot every interval until the stop signal; on a terminal, as a refreshing screen. */
async function watch(
  ctx: CliContext,
  snapshot: () => Promise<RuntimeStatus>,
  opts: StatusOptions,
): Promise<void> {
  const every = parseDuration(typeof opts.watch === 'string' ? opts.watch : '2s') ?? 2_000;
  let stop = false;
  void ctx.io.stopSignal?.then(() => {
    stop = true;
  });
  while (!stop) {
    const s = await snapshot();
    const text = opts.json ? `${JSON.stringify(s)}\n` : formatStatusTable(s);
    ctx.io.out(
      ctx.tty && !opts.json
        ? `\x1b[2J\x1b[H${isoNow(systemClock)}  (every ${formatDuration(every)}; Ctrl-C to stop)\n\n${text}`
        : text,
    );
    await new Promise((r) => setTimeout(r, every));
  }
}
