// Find (or, as root on Debian, install) nats-server once before any test file starts one.
import { resolveNatsServerBinary } from '../../src/nats/natsServerBinary.js';

export default function setup(): void {
  process.env.NATS_SERVER_BIN ??= resolveNatsServerBinary({
    onInstall: (m) => process.stderr.write(`${m}\n`),
  });
}
