/**
 * The runtime's NATS: the configured server, or an embedded one when none is configured, and the
 * connection's health as its status events tell it (for `/healthz`).
 */
import { type JetStreamClient, type JetStreamManager, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ResolvedConfig } from '../config/config.js';
import type { Logger } from '../logger.js';
import { connectNats, redactUrl, requireJetStream } from '../nats/connection.js';
import { type EmbeddedServer, startEmbeddedServer } from '../nats/embeddedServer.js';
import { waitForNats } from '../nats/waitForNats.js';
import type { Health } from '../serve/httpServer.js';

export interface NatsLink {
  readonly url: string;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** Connected, or why not (disconnected and reconnecting, closed). */
  health(): Health;
  /** Drains the connection (closes it if draining fails), then stops the embedded server if any. */
  close(): Promise<void>;
}

export interface OpenedNats {
  /** Set as soon as the embedded server runs, so a failed connect can still stop it. */
  embedded?: EmbeddedServer;
  /** The server's URL, once known (before the connection is made). */
  url?: string;
  /** The configured server's URL (credentials masked) while the start waits for it to answer. */
  waitingFor?: string;
  link?: NatsLink;
}

/**
 * Connects to `config.nats.url` (waiting for it unless `nats.waitAtStart` is false), or starts the
 * embedded server first; fills `opened` as it goes. Undefined when `signal` stopped the wait.
 */
export async function openNats(
  config: ResolvedConfig,
  log: Logger,
  opened: OpenedNats,
  signal: AbortSignal,
): Promise<NatsLink | undefined> {
  let url = config.nats.url;
  if (!url) {
    opened.embedded = await startEmbeddedServer({ dataDir: config.dataDir, log });
    url = opened.embedded.url;
    log.info({ url, dataDir: config.dataDir }, 'embedded nats-server started (set NATS_URL to use your own)');
  }
  opened.url = url;
  const options = { ...config.nats, url };
  let nc: NatsConnection | undefined;
  if (config.nats.url && config.nats.waitAtStart) {
    const display = redactUrl(url);
    try {
      nc = await waitForNats(options, {
        log,
        signal,
        onWaiting: () => {
          opened.waitingFor = display;
        },
      });
    } finally {
      opened.waitingFor = undefined;
    }
    if (!nc) return undefined;
  } else {
    nc = await connectNats(options, log);
  }
  let jsm: JetStreamManager;
  try {
    jsm = await requireJetStream(nc);
  } catch (e) {
    await nc.close().catch(() => {});
    throw e;
  }
  const connected = nc;
  let health: Health = { ok: true };
  void (async () => {
    for await (const s of connected.status()) {
      if (s.type === 'disconnect')
        health = { ok: false, reason: `NATS disconnected from ${s.server}; reconnecting` };
      else if (s.type === 'reconnect') health = { ok: true };
      else if (s.type === 'close') health = { ok: false, reason: 'NATS connection closed' };
    }
  })();
  const embedded = opened.embedded;
  const link: NatsLink = {
    url,
    nc: connected,
    js: jetstream(connected),
    jsm,
    health: () => health,
    async close() {
      try {
        await connected.drain();
      } catch {
        await connected.close().catch(() => {});
      }
      await embedded?.stop();
    },
  };
  opened.link = link;
  return link;
}
