/**
 * Start a nats-server child with JetStream on loopback, learn its port from its log, and stop or
 * kill it. Shared by the embedded default (src/nats/embeddedServer.ts) and the test harness, so both run
 * the server the same way.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { ProsaError } from '../errors.js';
import { resolveNatsServerBinary } from './natsServerBinary.js';

export interface NatsServerProcessOptions {
  /** JetStream store directory (created if absent). */
  storeDir: string;
  /** Port to listen on; -1 lets the server pick a free one. @default -1 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Client authentication: user and password, or a token (not both). */
  user?: string;
  password?: string;
  token?: string;
  /** Extra command-line arguments, e.g. ['--config', file]. */
  args?: string[];
  /** The binary; found by resolveNatsServerBinary() if absent. */
  bin?: string;
  /** How long to wait for "Server is ready". @default 10_000 */
  startTimeoutMs?: number;
}

export interface NatsServerProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once, as a crash would. */
  kill(): Promise<void>;
}

const LISTEN = /Listening for client connections on [^\s]*:(\d+)/;

export function spawnNatsServer(options: NatsServerProcessOptions): Promise<NatsServerProcess> {
  const bin = options.bin ?? resolveNatsServerBinary();
  const host = options.host ?? '127.0.0.1';
  mkdirSync(options.storeDir, { recursive: true });
  const args = ['-a', host, '-p', String(options.port ?? -1), '-js', '-sd', options.storeDir, '-m', '0'];
  if (options.user !== undefined) args.push('--user', options.user, '--pass', options.password ?? '');
  if (options.token !== undefined) args.push('--auth', options.token);
  args.push(...(options.args ?? []));

  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timeoutMs = options.startTimeoutMs ?? 10_000;

  return new Promise((resolve, reject) => {
    let log = '';
    let port: number | undefined;
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(
        new ProsaError(
          'PROSA_EMBEDDED_START_FAILED',
          `nats-server did not start: ${why}\n${log.slice(-2000)}`,
        ),
      );
    };
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs);
    const onExit = (code: number | null) => fail(`exited with code ${code}`);
    child.once('error', (e) => fail(e.message));
    child.once('exit', onExit);
    child.stderr?.setEncoding('utf8');
    const onData = (chunk: string) => {
      log += chunk;
      if (port === undefined) {
        const m = LISTEN.exec(log);
        if (m) port = Number(m[1]);
      }
      if (port !== undefined && log.includes('Server is ready')) {
        clearTimeout(timer);
        child.off('exit', onExit);
        // Keep draining stderr so the child never blocks on a full pipe; the log is not kept.
        child.stderr?.off('data', onData);
        child.stderr?.resume();
        log = '';
        resolve(makeHandle(child, exited, host, port));
      }
    };
    child.stderr?.on('data', onData);
  });
}

function makeHandle(
  child: ChildProcess,
  exited: Promise<number | null>,
  host: string,
  port: number,
): NatsServerProcess {
  const signal = async (sig: NodeJS.Signals, graceMs: number) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(sig);
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  };
  return {
    url: `nats://${host}:${port}`,
    port,
    pid: child.pid ?? -1,
    child,
    exited,
    stop: (graceMs = 5_000) => signal('SIGTERM', graceMs),
    kill: () => signal('SIGKILL', 0),
  };
}
