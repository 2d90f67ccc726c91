/**
 * The `prosa` command. It only parses arguments and calls the runtime and its helpers, so every
 * command runs in-process in tests: `await main(['status', '--json'], io)`.
 */
import { existsSync } from 'node:fs';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Command, CommanderError, Option } from 'commander';
import { loadConfig, type ResolvedConfig } from './config.js';
import { connectNats } from './connection.js';
import { formatDoctor, runDoctor } from './doctor.js';
import { parseDuration } from './duration.js';
import { findEmbeddedUrl } from './embeddedServer.js';
import { ConfigError, isProsaError, ProsaError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { createRuntime } from './runtime.js';
import { openDatabase, type SqliteDatabase } from './sqliteStore.js';
import { collectStatus, lastSeqOnSubjects, type RuntimeStatus } from './status.js';
import { formatStatusTable } from './statusFormat.js';
import { applyStreams, listStreams } from './streams.js';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); `run` drains then. */
  stopSignal?: Promise<string>;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const defaultIo = (): CliIo => ({
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
});

/** Exit codes: 0 ok, 1 failure, 2 bad configuration or usage. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

interface GlobalOptions {
  config: string;
}

async function withNats<T>(
  config: ResolvedConfig,
  log: Logger,
  fn: (nc: NatsConnection | undefined, jsm: JetStreamManager | undefined) => Promise<T>,
  { required = true } = {},
): Promise<T> {
  const url = config.nats.url ?? findEmbeddedUrl(config.dataDir);
  if (!url) {
    if (required) {
      throw new ProsaError(
        'PROSA_NATS_UNREACHABLE',
        `no NATS server: NATS_URL is not set and no embedded server is running for ${config.dataDir}; start one with \`npm start\` or set NATS_URL`,
      );
    }
    return fn(undefined, undefined);
  }
  let nc: NatsConnection | undefined;
  try {
    nc = await connectNats(
      { ...config.nats, url, connectTimeout: Math.min(config.nats.connectTimeout, required ? 5_000 : 2_000) },
      log,
    );
  } catch (e) {
    if (required) throw e;
    return fn(undefined, undefined);
  }
  try {
    return await fn(nc, await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

const openIfExists = (config: ResolvedConfig): SqliteDatabase | undefined =>
  existsSync(config.sqlitePath) ? openDatabase(config.sqlitePath) : undefined;

async function waitCaughtUp(
  config: ResolvedConfig,
  jsm: JetStreamManager,
  timeoutMs: number,
): Promise<string[]> {
  const db = openIfExists(config);
  try {
    const targets = await Promise.all(
      config.projections.map(
        async (p) => [p.name, await lastSeqOnSubjects(jsm, p.source.stream, p.source.subjects)] as const,
      ),
    );
    const checkpoint = (name: string) =>
      (db?.prepare('SELECT seq FROM prosa_checkpoints WHERE worker = ?').pluck().get(name) as
        | number
        | undefined) ?? 0;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const behind = targets.filter(([name, seq]) => checkpoint(name) < seq);
      if (behind.length === 0) return [];
      if (Date.now() >= deadline)
        return behind.map(([name, seq]) => `${name} (at ${checkpoint(name)} of ${seq})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    db?.close();
  }
}

export function buildCli(io: CliIo = defaultIo()): Command {
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();
  const program = new Command('prosa')
    .description('Event-sourced read models and sagas on NATS JetStream')
    .option('-c, --config <file>', 'the runtime config', 'runtime.config.ts')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError();

  const config = () => loadConfig((program.opts() as GlobalOptions).config, { env, cwd });
  const cliLog = (c: ResolvedConfig) => createLogger({ level: c.logLevel === 'info' ? 'warn' : c.logLevel });

  program
    .command('run')
    .description('run every projection and saga of the config until SIGINT/SIGTERM (then drain and exit 0)')
    .action(async () => {
      const c = await config();
      const runtime = createRuntime(c);
      await runtime.start();
      const signal = await (io.stopSignal ?? new Promise<string>(() => {}));
      const log = createLogger({ level: c.logLevel });
      log.info({ signal }, 'draining: finishing the batch at hand, then exiting');
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000).unref());
      if ((await Promise.race([runtime.drain(), timeout])) === 'timeout') {
        log.error('drain took longer than 10 s; exiting anyway (uncommitted work is redelivered)');
        throw new ProsaError('PROSA_TIMEOUT', 'drain timed out');
      }
    });

  program
    .command('status')
    .description('checkpoint, lag, dead letters and state of each projection and saga')
    .option('--json', 'print one JSON object')
    .option(
      '--wait-caught-up',
      "wait until every projection has reached its stream's last sequence as of now",
    )
    .option('--timeout <duration>', 'with --wait-caught-up: how long to wait', '60s')
    .action(async (opts: { json?: boolean; waitCaughtUp?: boolean; timeout: string }) => {
      const c = await config();
      const log = cliLog(c);
      if (opts.waitCaughtUp) {
        const timeoutMs = parseDuration(opts.timeout);
        if (timeoutMs === undefined)
          throw new ConfigError(
            [{ path: '--timeout', message: `expected a duration like "60s", got ${opts.timeout}` }],
            'command line',
          );
        const laggards = await withNats(c, log, (_nc, jsm) =>
          waitCaughtUp(c, jsm as JetStreamManager, timeoutMs),
        );
        if (laggards.length > 0) {
          io.err(`not caught up after ${opts.timeout}: ${laggards.join(', ')}\n`);
          process.exitCode = EXIT.failure;
          throw new CommanderError(EXIT.failure, 'prosa.notCaughtUp', 'not caught up');
        }
        io.out('caught up\n');
        return;
      }
      const status: RuntimeStatus = await withNats(
        c,
        log,
        async (_nc, jsm) => {
          const db = openIfExists(c);
          try {
            return await collectStatus({ config: c, db, jsm });
          } finally {
            db?.close();
          }
        },
        { required: false },
      );
      io.out(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatusTable(status));
    });

  program
    .command('doctor')
    .description(
      'check NATS, JetStream, the server version, the streams and the SQLite path; print the fix for each failure',
    )
    .action(async () => {
      const c = await config();
      const checks = await runDoctor(c, { log: cliLog(c) });
      io.out(formatDoctor(checks));
      if (checks.some((check) => !check.ok))
        throw new CommanderError(EXIT.failure, 'prosa.doctorFailed', 'doctor found problems');
    });

  const streams = program.command('streams').description('the streams of the config');
  streams
    .command('apply')
    .description('create missing streams and update managed ones to match the config')
    .action(async () => {
      const c = await config();
      const log = cliLog(c);
      const reports = await withNats(c, log, (_nc, jsm) =>
        applyStreams(jsm as JetStreamManager, c.streams, log),
      );
      for (const r of reports) io.out(`${JSON.stringify(r)}\n`);
    });
  streams
    .command('ls')
    .description('list the configured streams with their state')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const c = await config();
      const log = cliLog(c);
      const list = await withNats(c, log, (_nc, jsm) => listStreams(jsm as JetStreamManager, c.streams));
      io.out(
        opts.json
          ? `${JSON.stringify(list, null, 2)}\n`
          : `${list.map((s) => JSON.stringify(s)).join('\n')}\n`,
      );
    });

  program.addOption(new Option('--no-color', 'plain output').hideHelp());
  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const program = buildCli(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      )
        return EXIT.ok;
      return e.code.startsWith('prosa.') ? e.exitCode : EXIT.usage;
    }
    if (e instanceof ConfigError) {
      io.err(`ConfigError: ${e.message}\n`);
      return EXIT.usage;
    }
    if (isProsaError(e)) {
      io.err(`${e.name} ${e.code}: ${e.message}\n`);
      return e.code === 'PROSA_CONFIG_MISSING' ? EXIT.usage : EXIT.failure;
    }
    io.err(`${(e as Error)?.stack ?? String(e)}\n`);
    return EXIT.failure;
  }
}
