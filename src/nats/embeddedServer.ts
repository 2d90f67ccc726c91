/**
 * The embedded default (docs/operating.md#the-embedded-server): with no NATS_URL, prosa runs a
 * nats-server child with JetStream on loopback, its store under `<dataDir>/nats`, and records
 * `{url, pid, startedAt, ...}` in `<dataDir>/nats.json` while it runs, so `prosa status` and
 * `prosa doctor` in another terminal find it ({@link findEmbeddedUrl}).
 *
 * Lifecycle:
 * - The child runs in its own process group, so a Ctrl-C at the terminal reaches only prosa, which
 *   drains its workers while NATS is still up and then stops the child.
 * - It is stopped by `stop()`, and also when this process exits, or is signalled (SIGINT, SIGTERM,
 *   SIGHUP) with no other handler installed, or dies of an uncaught exception.
 * - A `kill -9` of prosa leaves the child running (nothing can run in a killed process). Its log
 *   goes to a file, not to a pipe into the dead parent, so it keeps serving; the next start finds
 *   the record (or the process, by its store directory), sees that its prosa is gone, and replaces it.
 * - The port of the previous run is used again when it is free, so clients that were connected
 *   (another terminal, a reconnecting worker) find the new server where the old one was.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join, resolve } from 'node:path';
import { ProsaError } from '../errors.js';
import type { Logger } from '../logger.js';
import { isoNow, systemClock } from '../time/clock.js';
import { resolveNatsServerBinary } from './natsServerBinary.js';

export interface EmbeddedServerOptions {
  /** The project's data folder (`.prosa`): the store goes to `<dataDir>/nats`, the record to `<dataDir>/nats.json`. */
  dataDir: string;
  log?: Logger;
  /** Port to listen on. @default the previous run's port when free, else one the server picks */
  port?: number;
  /** Stop the child when this process exits or is signalled. @default true */
  stopOnExit?: boolean;
  /** The nats-server binary. @default resolveNatsServerBinary() */
  bin?: string;
  /** How long to wait for the server to be ready. @default 15_000 ms */
  startTimeoutMs?: number;
}

export interface EmbeddedServer {
  /** nats://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Resolves with the exit code (null when killed by a signal) once the child has exited. */
  readonly exited: Promise<number | null>;
  /** Stops the child (SIGTERM, SIGKILL after 5 s) and removes the record. Idempotent. */
  stop(): Promise<void>;
}

/** What `<dataDir>/nats.json` holds while the embedded server runs. */
export interface EmbeddedServerRecord {
  url: string;
  port: number;
  /** The nats-server process. */
  pid: number;
  /** ISO time the server became ready. */
  startedAt: string;
  /** The prosa process that started it and will stop it. */
  ownerPid: number;
  storeDir: string;
}

const HOST = '127.0.0.1';
const STOP_GRACE_MS = 5_000;
const LISTEN = /Listening for client connections on [^\s]*:(\d+)/;
const READY = 'Server is ready';

export const embeddedRecordPath = (dataDir: string): string => join(resolve(dataDir), 'nats.json');
export const embeddedStoreDir = (dataDir: string): string => join(resolve(dataDir), 'nats');
const logPath = (dataDir: string) => join(embeddedStoreDir(dataDir), 'nats-server.log');
/** The port of the last run, kept after a clean stop (nats.json is removed then). */
const lastPortPath = (dataDir: string) => join(embeddedStoreDir(dataDir), 'last-port');

function lastPort(dataDir: string): number | undefined {
  try {
    const port = Number(readFileSync(lastPortPath(dataDir), 'utf8').trim());
    return Number.isInteger(port) && port > 0 && port < 65_536 ? port : undefined;
  } catch {
    return undefined;
  }
}

/** Embedded servers started by this process, by record path. */
const running = new Map<string, EmbeddedServer>();

// ---------------------------------------------------------------------------------------------
// Processes

/** Whether `pid` is a live (not zombie) process. */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // "pid (comm) S ..." — a zombie has exited and only waits to be reaped.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(0) is all we have
  }
}

function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    try {
      // Without /proc (macOS); a path with spaces splits wrongly here, which only makes us miss it.
      return execFileSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' })
        .trim()
        .split(/\s+/);
    } catch {
      return undefined;
    }
  }
}

const isOurServer = (args: readonly string[] | undefined, storeDir: string): boolean => {
  if (!args?.[0]?.includes('nats-server')) return false;
  const i = args.indexOf('-sd');
  return i >= 0 && args[i + 1] === storeDir;
};

/** Pids of live nats-servers whose store is this data folder's (normally none or one). */
export function embeddedServerPids(dataDir: string): number[] {
  const storeDir = embeddedStoreDir(dataDir);
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    try {
      pids = execFileSync('ps', ['-axo', 'pid='], { encoding: 'utf8' })
        .split('\n')
        .map((l) => Number(l.trim()))
        .filter((n) => n > 0);
    } catch {
      return [];
    }
  }
  return pids.filter(
    (pid) => pid !== process.pid && isOurServer(commandLine(pid), storeDir) && isProcessAlive(pid),
  );
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (performance.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. */
async function terminate(pid: number, graceMs = STOP_GRACE_MS): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
    // A stopped (SIGSTOP) server acts on the SIGTERM only once it runs again.
    process.kill(pid, 'SIGCONT');
  } catch {
    return;
  }
  if (await waitForExit(pid, graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitForExit(pid, 2_000);
}

/** Whether a NATS server answers (sends INFO) on the port within `timeoutMs`. */
function answers(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((done) => {
    const socket = tcpConnect({ host: HOST, port });
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      done(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('data', (b) => finish(b.toString('utf8').startsWith('INFO ')));
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}

// ---------------------------------------------------------------------------------------------
// The record

/** The record in `<dataDir>/nats.json`, if there is a readable one. */
export function readEmbeddedRecord(dataDir: string): EmbeddedServerRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(embeddedRecordPath(dataDir), 'utf8')) as Partial<EmbeddedServerRecord>;
    if (typeof r.url !== 'string' || typeof r.pid !== 'number' || typeof r.port !== 'number')
      return undefined;
    return {
      url: r.url,
      port: r.port,
      pid: r.pid,
      startedAt: String(r.startedAt ?? ''),
      ownerPid: typeof r.ownerPid === 'number' ? r.ownerPid : -1,
      storeDir: typeof r.storeDir === 'string' ? r.storeDir : embeddedStoreDir(dataDir),
    };
  } catch {
    return undefined;
  }
}

function writeRecord(dataDir: string, record: EmbeddedServerRecord): void {
  const file = embeddedRecordPath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(tmp, file);
}

/** Removes the record if it is still the one for `pid` (a newer server may have replaced it). */
function removeRecord(dataDir: string, pid: number): void {
  const current = readEmbeddedRecord(dataDir);
  if (current && current.pid !== pid) return;
  rmSync(embeddedRecordPath(dataDir), { force: true });
}

/**
 * The URL of the embedded server running for `dataDir`, for commands run from another terminal
 * with no NATS_URL; undefined when none runs (no record, or its process is gone).
 */
export function findEmbeddedUrl(dataDir: string): string | undefined {
  const record = readEmbeddedRecord(dataDir);
  if (!record || !isProcessAlive(record.pid)) return undefined;
  return isOurServer(commandLine(record.pid), embeddedStoreDir(dataDir)) ? record.url : undefined;
}

// ---------------------------------------------------------------------------------------------
// Start

/** Replaces what a previous run left behind: a record, its server, or a server without a record. */
async function clearLeftovers(
  dataDir: string,
  log: Logger | undefined,
): Promise<EmbeddedServerRecord | undefined> {
  const storeDir = embeddedStoreDir(dataDir);
  const record = readEmbeddedRecord(dataDir);
  if (record && isProcessAlive(record.pid) && isOurServer(commandLine(record.pid), storeDir)) {
    const ownerAlive = record.ownerPid !== process.pid && isProcessAlive(record.ownerPid);
    if (ownerAlive && (await answers(record.port))) {
      throw new ProsaError(
        'PROSA_EMBEDDED_START_FAILED',
        `another prosa process (pid ${record.ownerPid}) runs the embedded nats-server for ${resolve(dataDir)} at ${record.url} ` +
          `(nats-server pid ${record.pid}, since ${record.startedAt}); stop that process first, ` +
          `or use its server from this one with NATS_URL=${record.url}`,
      );
    }
    const why = ownerAlive
      ? 'it does not answer'
      : `the prosa process that started it (pid ${record.ownerPid}) is gone`;
    log?.warn(
      { pid: record.pid, url: record.url },
      `replacing a stale embedded nats-server (pid ${record.pid}): ${why}`,
    );
    await terminate(record.pid);
  } else if (record) {
    log?.info(
      { pid: record.pid },
      `removing the record of an embedded nats-server that is gone (pid ${record.pid})`,
    );
  }
  for (const pid of embeddedServerPids(dataDir)) {
    log?.warn({ pid }, `stopping a stray embedded nats-server (pid ${pid}) that holds ${storeDir}`);
    await terminate(pid);
  }
  rmSync(embeddedRecordPath(dataDir), { force: true });
  return record;
}

interface Spawned {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
}

async function spawnServer(bin: string, dataDir: string, port: number, timeoutMs: number): Promise<Spawned> {
  const storeDir = embeddedStoreDir(dataDir);
  mkdirSync(storeDir, { recursive: true });
  const logFile = logPath(dataDir);
  // The log goes to a file, truncated per start: a pipe into prosa would break (and could kill the
  // server on its next log line) when prosa is killed, and the file is there to read after a crash.
  const fd = openSync(logFile, 'w');
  const args = ['-a', HOST, '-p', String(port), '-js', '-sd', storeDir, '-m', '0', '-n', 'prosa-embedded'];
  let child: ChildProcess;
  try {
    child = spawn(bin, args, { stdio: ['ignore', fd, fd], detached: true });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.once('error', () => {});

  const until = performance.now() + timeoutMs;
  let text = '';
  for (;;) {
    await new Promise((r) => setTimeout(r, 25));
    try {
      text = readFileSync(logFile, 'utf8');
    } catch {
      text = '';
    }
    const m = LISTEN.exec(text);
    if (m && text.includes(READY)) return { child, port: Number(m[1]), exited };
    const gone = child.exitCode !== null || child.signalCode !== null;
    if (gone || performance.now() > until) {
      if (!gone) child.kill('SIGKILL');
      await exited;
      const why = gone
        ? `exited with code ${child.exitCode ?? child.signalCode}`
        : `not ready after ${timeoutMs} ms`;
      throw new ProsaError(
        'PROSA_EMBEDDED_START_FAILED',
        `the embedded nats-server (${bin}) did not start on ${HOST}:${port === -1 ? 'a free port' : port}: ${why}. ` +
          `Its log (${logFile}) ends with:\n${text.slice(-1500).trimEnd()}`,
      );
    }
  }
}

/**
 * Starts the embedded nats-server for `dataDir` (JetStream, loopback only), replacing a stale one
 * left by a crashed run. Fails with `PROSA_EMBEDDED_START_FAILED` when another live prosa runs it,
 * or when it cannot start; `PROSA_NATS_SERVER_NOT_FOUND` when there is no nats-server binary.
 */
export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const dataDir = resolve(options.dataDir);
  const { log } = options;
  const key = embeddedRecordPath(dataDir);
  const mine = running.get(key);
  if (mine) {
    throw new ProsaError(
      'PROSA_EMBEDDED_START_FAILED',
      `this process already runs the embedded nats-server for ${dataDir} at ${mine.url}; use it, or stop() it first`,
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const bin = options.bin ?? resolveNatsServerBinary({ onInstall: (m) => log?.warn(m) });
  const previous = await clearLeftovers(dataDir, log);
  const timeoutMs = options.startTimeoutMs ?? 15_000;

  let spawned: Spawned;
  const preferred = options.port ?? previous?.port ?? lastPort(dataDir);
  try {
    spawned = await spawnServer(bin, dataDir, preferred ?? -1, timeoutMs);
  } catch (e) {
    // The previous run's port is only a preference; when something else has it, take any.
    if (options.port !== undefined || preferred === undefined) throw e;
    log?.info(
      { port: preferred },
      `port ${preferred} of the previous embedded nats-server is taken; using another`,
    );
    spawned = await spawnServer(bin, dataDir, -1, timeoutMs);
  }
  const { child, port, exited } = spawned;
  const pid = child.pid ?? -1;
  const url = `nats://${HOST}:${port}`;
  writeFileSync(lastPortPath(dataDir), `${port}\n`);
  writeRecord(dataDir, {
    url,
    port,
    pid,
    startedAt: isoNow(systemClock),
    ownerPid: process.pid,
    storeDir: embeddedStoreDir(dataDir),
  });

  let stopping: Promise<void> | undefined;
  const hooks =
    options.stopOnExit === false
      ? undefined
      : installExitHooks(
          key,
          () => handle.stop(),
          () => {
            // In a synchronous 'exit' nothing can be awaited: signal the child and drop the record.
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            removeRecord(dataDir, pid);
          },
        );

  void exited.then((code) => {
    if (stopping) return;
    log?.error(
      { pid, code, log: logPath(dataDir) },
      `the embedded nats-server exited unexpectedly (code ${code}); see ${logPath(dataDir)}`,
    );
    hooks?.remove();
    running.delete(key);
    removeRecord(dataDir, pid);
  });

  const handle: EmbeddedServer = {
    url,
    port,
    pid,
    exited,
    stop() {
      stopping ??= (async () => {
        hooks?.remove();
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
          await exited;
          clearTimeout(timer);
        }
        removeRecord(dataDir, pid);
        running.delete(key);
        log?.info({ pid }, 'embedded nats-server stopped');
      })();
      return stopping;
    },
  };
  running.set(key, handle);
  log?.info({ url, pid, storeDir: embeddedStoreDir(dataDir) }, `embedded nats-server ready at ${url}`);
  return handle;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** What the process-wide hooks do for each embedded server that asked to be stopped on exit. */
const onExitHooks = new Map<string, { stop: () => Promise<void>; exitNow: () => void }>();
let hooksInstalled = false;

const onProcessExit = () => {
  for (const h of onExitHooks.values()) h.exitNow();
};

const signalHandlers = new Map<NodeJS.Signals, () => void>(
  SIGNALS.map((sig) => [
    sig,
    () => {
      // Only when no one else handles the signal: an application that does (the runtime drains its
      // workers first) owns the shutdown and calls stop() itself.
      if (process.listenerCount(sig) > 1) return;
      void Promise.allSettled([...onExitHooks.values()].map((h) => h.stop())).finally(() => {
        uninstallHooks();
        // End the way the signal asked, as if we had never listened.
        process.kill(process.pid, sig);
      });
    },
  ]),
);

function uninstallHooks(): void {
  if (!hooksInstalled) return;
  process.removeListener('exit', onProcessExit);
  for (const [sig, h] of signalHandlers) process.removeListener(sig, h);
  hooksInstalled = false;
}

/**
 * Stops the child when the process ends: on 'exit' (also after an uncaught exception) it is
 * signalled synchronously; on SIGINT/SIGTERM/SIGHUP with no other handler it is stopped and the
 * signal re-raised.
 */
function installExitHooks(key: string, stop: () => Promise<void>, exitNow: () => void): { remove(): void } {
  onExitHooks.set(key, { stop, exitNow });
  if (!hooksInstalled) {
    process.on('exit', onProcessExit);
    for (const [sig, h] of signalHandlers) process.on(sig, h);
    hooksInstalled = true;
  }
  return {
    remove() {
      onExitHooks.delete(key);
      if (onExitHooks.size === 0) uninstallHooks();
    },
  };
}
