/**
 * Headless Chromium for the console's browser tests: Debian's `chromium` driven by playwright-core
 * (no browser download). `ensureChromium` (global setup) installs the package as root on Debian
 * when it is missing, as .ci/run does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.PROSA_CHROMIUM ?? '/usr/bin/chromium';

const HOW_TO_INSTALL = `no Chromium at ${CHROMIUM} for the console's browser tests (test/browser): install Debian's package (sudo apt-get install chromium) or set PROSA_CHROMIUM to a Chromium binary`;

/** Installs Debian's chromium when missing and this runs as root with apt-get; silent otherwise. */
export function ensureChromium(onInstall: (message: string) => void): void {
  if (existsSync(CHROMIUM)) return;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (process.platform !== 'linux' || !root || !existsSync('/usr/bin/apt-get')) return;
  onInstall('chromium not found: installing Debian package chromium with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'ignore', env });
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(HOW_TO_INSTALL);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}
