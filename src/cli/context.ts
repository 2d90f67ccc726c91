/** What every command gets: the io, the config it was asked for, a quiet logger, and admin access. */
import type { Command } from 'commander';
import {
  type AdminContext,
  createLogger,
  type Logger,
  loadConfig,
  openDatabase,
  type ResolvedConfig,
  systemClock,
} from '../internal.js';
import { connect } from './connect.js';
import type { CliIo } from './io.js';

export interface CliContext {
  io: CliIo;
  /** Whether a person is at the terminal: progress bars and the `status --watch` screen. */
  tty: boolean;
  /** The config named by `--config`, read when a command runs (after the options are parsed). */
  config: () => Promise<ResolvedConfig>;
  /** The config's logger one level quieter: a command's own output is what matters, not info lines. */
  quietLog: (config: ResolvedConfig) => Logger;
  /** Runs `fn` with the config, SQLite and (when reachable, or required) NATS; closes them after. */
  admin: <T>(fn: (c: AdminContext) => Promise<T> | T, natsRequired?: boolean) => Promise<T>;
  /** Prints a value on one line, or as indented JSON. */
  print: (o: unknown, json?: boolean) => void;
}

export function createContext(program: Command, io: CliIo): CliContext {
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();
  const tty = io.tty ?? (process.stdout.isTTY === true && env.CI !== 'true');
  const config = () => loadConfig((program.opts() as { config?: string }).config, { env, cwd });
  const quietLog = (c: ResolvedConfig) =>
    createLogger({ level: c.logLevel === 'info' ? 'warn' : c.logLevel, pretty: false });

  async function admin<T>(fn: (c: AdminContext) => Promise<T> | T, natsRequired = false): Promise<T> {
    const c = await config();
    const log = quietLog(c);
    const conn = await connect(c, log, natsRequired);
    const db = openDatabase(c.sqlitePath);
    try {
      return await fn({ config: c, db, nc: conn?.nc, js: conn?.js, jsm: conn?.jsm, log, clock: systemClock });
    } finally {
      db.close();
      await conn?.nc.close();
    }
  }
  const print = (o: unknown, json?: boolean) =>
    io.out(json ? `${JSON.stringify(o, null, 2)}\n` : `${String(o)}\n`);

  return { io, tty, config, quietLog, admin, print };
}
