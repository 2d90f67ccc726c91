/**
 * The `prosa` command. It only parses arguments, calls the runtime and the admin functions, and
 * prints what they return, so every command runs in-process in tests: `await main(['status'], io)`.
 * Exit codes: 0 ok, 1 failure, 2 bad configuration or usage.
 */
import { existsSync } from 'node:fs';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { SingleBar } from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { publishDemo } from '../cim/demo/index.js';
import { loadConfig, type ResolvedConfig } from '../config/config.js';
import { ConfigError, isProsaError, ProsaError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { connectNats } from '../nats/connection.js';
import { sendControl } from '../nats/control.js';
import { findEmbeddedUrl } from '../nats/embeddedServer.js';
import { applyStreams, listStreams } from '../nats/streams.js';
import {
  type AdminContext,
  cancelTimeout,
  deadLetters,
  pauseWorker,
  purgeDeadLettersOf,
  resetSaga,
  resumeWorker,
  retryDeadLetters,
  sagaInstances,
  skipMessage,
} from '../ops/admin.js';
import { formatDoctor, runDoctor } from '../ops/doctor.js';
import { collectStatus, lastSeqOnSubjects, type RuntimeStatus } from '../ops/status.js';
import {
  formatTopology,
  readTopologyView,
  type TopologyFormat,
  topologyFormats,
} from '../ops/topologyView.js';
import { type RebuildProgress, rebuildProjection } from '../runtime/rebuild.js';
import { createRuntime } from '../runtime/runtime.js';
import { openDatabase, type SqliteDatabase } from '../store/database.js';
import { formatDuration, parseDuration } from '../time/duration.js';
import { formatStatusTable } from './format/statusTable.js';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); `run` and `status --watch` end then. */
  stopSignal?: Promise<string>;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Whether a person is at the terminal (progress bars, colours). @default stdout is a TTY and CI is not set */
  tty?: boolean;
}

const defaultIo = (): CliIo => ({
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
});

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

const fail = (code: string, message: string) => new CommanderError(EXIT.failure, `prosa.${code}`, message);

const positiveInt = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`${what} must be a whole number, got ${v}`);
  return n;
};

interface Connected {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** Connects to NATS_URL, or the embedded server recorded under the data folder. */
async function connect(
  config: ResolvedConfig,
  log: Logger,
  required: boolean,
): Promise<Connected | undefined> {
  const url = config.nats.url ?? findEmbeddedUrl(config.dataDir);
  if (!url) {
    if (!required) return undefined;
    throw new ProsaError(
      'PROSA_NATS_UNREACHABLE',
      `no NATS server: NATS_URL is not set and no embedded server is running for ${config.dataDir}; start one with \`npm start\` or set NATS_URL`,
    );
  }
  try {
    const nc = await connectNats(
      { ...config.nats, url, connectTimeout: Math.min(config.nats.connectTimeout, required ? 5_000 : 2_000) },
      log,
    );
    return { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
  } catch (e) {
    if (required) throw e;
    return undefined;
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
    const all = [...config.projections, ...config.sagas];
    const targets = await Promise.all(
      all.map(
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
  const tty = io.tty ?? (process.stdout.isTTY === true && env.CI !== 'true');
  const program = new Command('prosa')
    .description('Event-sourced read models and sagas on NATS JetStream')
    .option('-c, --config <file>', 'the runtime config', 'runtime.config.ts')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError();

  const config = () => loadConfig((program.opts() as { config: string }).config, { env, cwd });
  const quietLog = (c: ResolvedConfig) =>
    createLogger({ level: c.logLevel === 'info' ? 'warn' : c.logLevel, pretty: false });

  /** Runs `fn` with the config, SQLite and (when reachable, or required) NATS; closes them after. */
  async function admin<T>(fn: (c: AdminContext) => Promise<T> | T, natsRequired = false): Promise<T> {
    const c = await config();
    const log = quietLog(c);
    const conn = await connect(c, log, natsRequired);
    const db = openDatabase(c.sqlitePath);
    try {
      return await fn({ config: c, db, nc: conn?.nc, js: conn?.js, jsm: conn?.jsm, log });
    } finally {
      db.close();
      await conn?.nc.close();
    }
  }
  const print = (o: unknown, json?: boolean) =>
    io.out(json ? `${JSON.stringify(o, null, 2)}\n` : `${String(o)}\n`);

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
        throw new ProsaError(
          'PROSA_TIMEOUT',
          'drain took longer than 10 s; exiting anyway (uncommitted work is redelivered)',
        );
      }
    });

  program
    .command('status')
    .description('checkpoint, lag, dead letters and state of each projection and saga')
    .option('--json', 'print one JSON object')
    .option('--watch [interval]', 'refresh until interrupted (default every 2s)')
    .option(
      '--wait-caught-up',
      "wait until every projection and saga has reached its stream's last sequence as of now",
    )
    .option('--timeout <duration>', 'with --wait-caught-up: how long to wait', '60s')
    .action(
      async (opts: { json?: boolean; watch?: boolean | string; waitCaughtUp?: boolean; timeout: string }) => {
        const c = await config();
        const log = quietLog(c);
        if (opts.waitCaughtUp) {
          const timeoutMs = parseDuration(opts.timeout);
          if (timeoutMs === undefined)
            throw new ConfigError(
              [{ path: '--timeout', message: `expected a duration like "60s", got ${opts.timeout}` }],
              'command line',
            );
          const conn = await connect(c, log, true);
          try {
            const laggards = await waitCaughtUp(c, (conn as Connected).jsm, timeoutMs);
            if (laggards.length > 0)
              throw fail('notCaughtUp', `not caught up after ${opts.timeout}: ${laggards.join(', ')}`);
            io.out('caught up\n');
          } finally {
            await conn?.nc.close();
          }
          return;
        }
        const snapshot = async (): Promise<RuntimeStatus> => {
          const conn = await connect(c, log, false);
          const db = openIfExists(c);
          try {
            return await collectStatus({ config: c, db, jsm: conn?.jsm });
          } finally {
            db?.close();
            await conn?.nc.close();
          }
        };
        if (!opts.watch) {
          const s = await snapshot();
          io.out(opts.json ? `${JSON.stringify(s, null, 2)}\n` : formatStatusTable(s));
          return;
        }
        const every = parseDuration(typeof opts.watch === 'string' ? opts.watch : '2s') ?? 2_000;
        let stop = false;
        void io.stopSignal?.then(() => {
          stop = true;
        });
        while (!stop) {
          const s = await snapshot();
          const text = opts.json ? `${JSON.stringify(s)}\n` : formatStatusTable(s);
          io.out(
            tty && !opts.json
              ? `\x1b[2J\x1b[H${new Date().toISOString()}  (every ${formatDuration(every)}; Ctrl-C to stop)\n\n${text}`
              : text,
          );
          await new Promise((r) => setTimeout(r, every));
        }
      },
    );

  program
    .command('doctor')
    .description(
      'check NATS, JetStream, the server version, the streams and the SQLite path; print the fix for each failure',
    )
    .action(async () => {
      const c = await config();
      const checks = await runDoctor(c, { log: quietLog(c) });
      io.out(formatDoctor(checks));
      if (checks.some((check) => !check.ok)) throw fail('doctorFailed', 'doctor found problems');
    });

  const streams = program.command('streams').description('the streams of the config');
  streams
    .command('apply')
    .description('create missing streams and update managed ones to match the config')
    .action(async () => {
      const c = await config();
      const log = quietLog(c);
      const conn = (await connect(c, log, true)) as Connected;
      try {
        for (const r of await applyStreams(conn.jsm, c.streams, log)) io.out(`${JSON.stringify(r)}\n`);
      } finally {
        await conn.nc.close();
      }
    });
  streams
    .command('ls')
    .description('list the configured streams with their state')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const c = await config();
      const conn = (await connect(c, quietLog(c), true)) as Connected;
      try {
        const list = await listStreams(conn.jsm, c.streams);
        io.out(
          opts.json
            ? `${JSON.stringify(list, null, 2)}\n`
            : `${list.map((s) => JSON.stringify(s)).join('\n')}\n`,
        );
      } finally {
        await conn.nc.close();
      }
    });

  program
    .command('rebuild')
    .description('rebuild a projection from the stream beside the live model, then swap it in atomically')
    .argument('<projection>')
    .option('--batch <n>', 'messages per transaction', positiveInt('--batch'), 100_000)
    .action(async (name: string, opts: { batch: number }) => {
      const c = await config();
      const definition = c.projections.find((p) => p.name === name);
      if (!definition) {
        throw new ProsaError(
          'PROSA_NOT_FOUND',
          `no projection named "${name}" (configured: ${c.projections.map((p) => p.name).join(', ') || 'none'}); sagas are reset with \`prosa reset\``,
        );
      }
      const log = quietLog(c);
      const conn = (await connect(c, log, true)) as Connected;
      const db = openDatabase(c.sqlitePath);
      const bar = tty
        ? new SingleBar({
            format: `rebuild ${name} [{bar}] {percentage}% | {value}/{total} | {rate} ev/s | ETA {eta_formatted} | {phase}`,
            hideCursor: true,
          })
        : undefined;
      let lastLine = 0;
      const onProgress = (p: RebuildProgress) => {
        if (bar) {
          if (bar.getTotal() !== p.target) bar.setTotal(p.target);
          if (!bar.isActive) bar.start(p.target, p.checkpoint, { rate: p.eventsPerSecond, phase: p.phase });
          bar.update(p.checkpoint, { rate: p.eventsPerSecond, phase: p.phase });
        } else if (Date.now() - lastLine >= 2_000 || p.phase === 'done' || p.phase === 'swapping') {
          lastLine = Date.now();
          io.out(`${JSON.stringify({ rebuild: name, ...p })}\n`);
        }
      };
      try {
        const result = await rebuildProjection({
          definition,
          db,
          sqlitePath: c.sqlitePath,
          js: conn.js,
          jsm: conn.jsm,
          log,
          batchSize: opts.batch,
          reason: 'prosa rebuild',
          onProgress,
          pauseLive: async () => {
            await sendControl(conn.nc, name, 'pause', {
              reason: 'rebuild: swapping in the new model',
              byPid: process.pid,
            });
          },
          resumeLive: async () => {
            await sendControl(conn.nc, name, 'resume');
          },
        });
        bar?.stop();
        io.out(
          `rebuilt ${name}: ${result.applied} events in ${formatDuration(result.ms)}${result.resumed ? ' (resumed an interrupted rebuild)' : ''}; live at ${result.checkpoint}\n`,
        );
      } finally {
        bar?.stop();
        db.close();
        await conn.nc.close();
      }
    });

  program
    .command('pause')
    .description('stop a projection or saga after its batch at hand (kept across restarts until resumed)')
    .argument('<name>')
    .option('--reason <text>', 'shown by prosa status', 'paused by an operator')
    .action((name: string, opts: { reason: string }) =>
      admin(async (c) => print(JSON.stringify(await pauseWorker(c, name, opts.reason)))),
    );
  program
    .command('resume')
    .description('resume a paused or stopped projection or saga from its checkpoint')
    .argument('<name>')
    .action((name: string) => admin(async (c) => print(JSON.stringify(await resumeWorker(c, name)))));
  program
    .command('reset')
    .description(
      'move a saga back to a stream sequence; it consumes again after it (projections: use rebuild)',
    )
    .argument('<saga>')
    .requiredOption('--to-seq <n>', 'the new checkpoint (0: from the start)', positiveInt('--to-seq'))
    .action((name: string, opts: { toSeq: number }) =>
      admin(async (c) => print(JSON.stringify(await resetSaga(c, name, opts.toSeq)))),
    );
  program
    .command('skip')
    .description('step a stopped worker over a bad message (it is dead-lettered), then resume it')
    .argument('<name>')
    .requiredOption('--seq <n>', 'the stream sequence of the bad message', positiveInt('--seq'))
    .action((name: string, opts: { seq: number }) =>
      admin(async (c) => print(JSON.stringify(await skipMessage(c, name, opts.seq)))),
    );

  const dlq = program.command('dlq').description('dead letters: events that could not be decoded or applied');
  dlq
    .command('ls')
    .description('list dead letters with their reasons')
    .option('--json', 'print JSON')
    .option('--consumer <name>', 'only this consumer')
    .action((opts: { json?: boolean; consumer?: string }) =>
      admin(async (c) => {
        const entries = await deadLetters(c, opts.consumer);
        if (opts.json)
          return print(
            entries.map(({ data, ...e }) => ({ ...e, body: Buffer.from(data).toString('utf8') })),
            true,
          );
        if (entries.length === 0) return print('no dead letters');
        for (const e of entries)
          io.out(`${e.consumer}  ${e.stream}#${e.seq}  ${e.subject}  ${e.time}\n    ${e.reason}\n`);
      }, true),
    );
  dlq
    .command('retry')
    .description(
      'feed dead letters again to their consumer after a fix: each is applied once, or dead-lettered again with the new reason',
    )
    .argument('<consumer>')
    .option('--seq <n>', 'only the one with this stream sequence', positiveInt('--seq'))
    .option('--all', 'all of them')
    .action((consumer: string, opts: { seq?: number; all?: boolean }) =>
      admin(async (c) => {
        if (opts.seq === undefined && !opts.all)
          throw new CommanderError(EXIT.usage, 'prosa.usage', 'dlq retry needs --seq N or --all');
        const { via, outcomes } = await retryDeadLetters(c, consumer, opts.seq);
        const applied = outcomes.filter((o) => o.applied).length;
        io.out(
          `retried ${outcomes.length} via ${via}: ${applied} applied, ${outcomes.length - applied} dead-lettered again\n`,
        );
        for (const o of outcomes) if (!o.applied) io.out(`  #${o.seq}: ${o.reason}\n`);
      }, true),
    );
  dlq
    .command('purge')
    .description("remove a consumer's dead letters")
    .argument('<consumer>')
    .action((consumer: string) =>
      admin(
        async (c) => print(`purged ${await purgeDeadLettersOf(c, consumer)} dead letters of ${consumer}`),
        true,
      ),
    );

  const sagas = program.command('sagas').description('saga instances and their timeouts');
  sagas
    .command('ls')
    .description('live instances of a saga with their state and pending timeouts')
    .argument('<saga>')
    .option('--json', 'print JSON')
    .action((saga: string, opts: { json?: boolean }) =>
      admin((c) => {
        const list = sagaInstances(c, saga);
        if (opts.json) return print(list, true);
        if (list.length === 0) return print(`no live instances of ${saga}`);
        for (const i of list) {
          const timeouts = i.timeouts.map((t) => `${t.name} due ${t.dueAt}`).join(', ');
          io.out(`${i.instance}  ${JSON.stringify(i.state)}${timeouts ? `  (${timeouts})` : ''}\n`);
        }
      }),
    );
  sagas
    .command('cancel-timeout')
    .description('cancel a pending timeout of a saga instance so it never fires')
    .argument('<saga>')
    .argument('<instance>')
    .argument('<timeout>')
    .action((saga: string, instance: string, timeout: string) =>
      admin((c) => print(JSON.stringify(cancelTimeout(c, saga, instance, timeout)))),
    );

  const positiveNumber = (what: string) => (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${what} must be a positive number, got ${v}`);
    return n;
  };

  program
    .command('demo')
    .description(
      'publish a small data centre as CIM infrastructure events to INFRASTRUCTURE_EVENTS, as the CIM crates do',
    )
    .option('--events <n>', 'how many events', positiveInt('--events'), 2_000)
    .option(
      '--rate <r>',
      'at most this many events per second (default: as fast as the server acks)',
      positiveNumber('--rate'),
    )
    .option('--seed <n>', 'which story: the same seed tells the same story', positiveInt('--seed'), 1)
    .action(async (opts: { events: number; rate?: number; seed: number }) => {
      const c = await config();
      const log = quietLog(c);
      const conn = (await connect(c, log, true)) as Connected;
      // Get-or-create, as the crate does: created with the configured settings if absent, never changed.
      const stream = c.streams.INFRASTRUCTURE_EVENTS;
      if (stream) await applyStreams(conn.jsm, { INFRASTRUCTURE_EVENTS: stream }, log);
      const bar = tty
        ? new SingleBar({
            format: 'demo [{bar}] {percentage}% | {value}/{total} events | ETA {eta_formatted}',
            hideCursor: true,
          })
        : undefined;
      bar?.start(opts.events, 0);
      // Ctrl-C stops publishing; what is in flight is still acknowledged and counted.
      const stop = new AbortController();
      void io.stopSignal?.then(() => stop.abort());
      let lastLine = Date.now();
      try {
        const result = await publishDemo({
          js: conn.js,
          events: opts.events,
          seed: opts.seed,
          ...(opts.rate === undefined ? {} : { rate: opts.rate }),
          signal: stop.signal,
          onProgress: (published, total) => {
            if (bar) bar.update(published);
            else if (Date.now() - lastLine >= 2_000 && published < total) {
              lastLine = Date.now();
              io.out(`${JSON.stringify({ demo: { published, total } })}\n`);
            }
          },
        });
        bar?.stop();
        const rate = Math.round((result.published * 1_000) / Math.max(1, result.ms));
        io.out(
          `published ${result.published} demo events to INFRASTRUCTURE_EVENTS in ${formatDuration(result.ms)} (${rate} ev/s); see the topology with \`prosa topology\`\n`,
        );
      } finally {
        bar?.stop();
        await conn.nc.close();
      }
    });

  program
    .command('topology')
    .description('print the topology read model: counts, and the active resources, networks and connections')
    .addOption(
      new Option('--format <format>', 'table, json, or a graph: mermaid or dot (Graphviz)')
        .choices(topologyFormats)
        .default('table'),
    )
    .action(async (opts: { format: TopologyFormat }) => {
      const c = await config();
      if (!existsSync(c.sqlitePath)) {
        throw new ProsaError(
          'PROSA_SQLITE',
          `no database at ${c.sqlitePath}: start the worker (\`npm start\`) and publish some events (\`prosa demo\`), or set PROSA_DB to the worker's database`,
        );
      }
      const db = openDatabase(c.sqlitePath, { readonly: true });
      try {
        io.out(formatTopology(readTopologyView(db), opts.format));
      } finally {
        db.close();
      }
    });

  program.addOption(new Option('--no-color', 'plain output').hideHelp());
  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const program = buildCli(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      )
        return EXIT.ok;
      if (e.code.startsWith('prosa.')) {
        if (e.exitCode !== EXIT.ok) io.err(`${e.message}\n`);
        return e.exitCode;
      }
      return EXIT.usage;
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
