/**
 * Where the nats-server binary comes from, in this order: `NATS_SERVER_BIN`, `PATH` (and Debian's
 * /usr/sbin, which a non-root PATH often lacks); then, on a Debian-like machine running as root,
 * Debian's `nats-server` package. Never a download from the internet at run time.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ProsaError } from '../errors.js';

export interface ResolveNatsServerOptions {
  /** Install Debian's package when nothing is found and the machine allows it. @default true */
  allowInstall?: boolean;
  /** Told before an install starts, so a person knows why start-up pauses. */
  onInstall?: (message: string) => void;
}

const HOW_TO_INSTALL = [
  'nats-server was not found. Install it, or point NATS_SERVER_BIN at the binary, or set NATS_URL to use a running server:',
  '  Debian/Ubuntu: sudo apt-get install nats-server   (installs /usr/sbin/nats-server)',
  '  macOS:         brew install nats-server',
  '  other:         the official release at https://github.com/nats-io/nats-server/releases',
].join('\n');

let cached: string | undefined;

const isExecutable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

function findOnPath(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const extra of ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin'])
    if (!dirs.includes(extra)) dirs.push(extra);
  for (const dir of dirs) {
    const file = join(dir, 'nats-server');
    if (isExecutable(file)) return file;
  }
  return undefined;
}

const canInstallWithApt = (): boolean =>
  process.platform === 'linux' &&
  typeof process.getuid === 'function' &&
  process.getuid() === 0 &&
  existsSync('/usr/bin/apt-get');

/** The path of a runnable nats-server, installing Debian's package if that is the only way. */
export function resolveNatsServerBinary(options: ResolveNatsServerOptions = {}): string {
  if (cached) return cached;
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) {
      throw new ProsaError(
        'PROSA_NATS_SERVER_NOT_FOUND',
        `NATS_SERVER_BIN=${fromEnv} is not an executable file; fix the path or unset it.\n${HOW_TO_INSTALL}`,
      );
    }
    cached = fromEnv;
    return cached;
  }
  const found = findOnPath();
  if (found) {
    cached = found;
    return cached;
  }
  if (options.allowInstall !== false && canInstallWithApt()) {
    options.onInstall?.('nats-server not found: installing Debian package nats-server with apt-get');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    const result = spawnSync('apt-get', ['install', '-y', '-qq', 'nats-server'], { stdio: 'ignore', env });
    const installed = findOnPath();
    if (result.status === 0 && installed) {
      cached = installed;
      return cached;
    }
  }
  throw new ProsaError('PROSA_NATS_SERVER_NOT_FOUND', HOW_TO_INSTALL);
}

/** `nats-server --version` as [major, minor, patch], e.g. [2, 9, 10]. */
export function natsServerBinaryVersion(bin: string): [number, number, number] | undefined {
  try {
    const out = execFileSync(bin, ['--version'], { encoding: 'utf8' });
    const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(out);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
  } catch {
    return undefined;
  }
}
