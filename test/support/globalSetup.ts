// Find (or, as root on Debian, install) nats-server, and chromium for test/browser, once before any test file starts.
import { resolveNatsServerBinary } from '../../src/nats/natsServerBinary.js';
import { ensureChromium } from './browser.js';

export default function setup(): void {
  process.env.NATS_SERVER_BIN ??= resolveNatsServerBinary({
    onInstall: (m) => process.stderr.write(`${m}\n`),
  });
  ensureChromium((m) => process.stderr.write(`${m}\n`));
}
