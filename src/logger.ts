/**
 * pino: JSON lines by default, pretty only when a person is at the terminal. The runtime never
 * writes with console.*; everything goes through a Logger.
 */
import { pino } from 'pino';
import { defaults } from './defaults.js';

export type Logger = pino.Logger;
export type LogLevel = typeof defaults.logLevel;

export interface LoggerOptions {
  /** @default 'info' (or LOG_LEVEL) */
  level?: LogLevel;
  /** @default whether stdout is a TTY */
  pretty?: boolean;
  /** Extra fields on every line. */
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? (process.env.LOG_LEVEL as LogLevel | undefined) ?? defaults.logLevel;
  const pretty = options.pretty ?? (process.stdout.isTTY === true && process.env.CI !== 'true');
  return pino({
    name: 'prosa',
    level,
    base: { ...options.base },
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
          },
        }
      : {}),
  });
}

/** A logger that drops everything, for tests and library use without logs. */
export const silentLogger = (): Logger => pino({ level: 'silent' });
