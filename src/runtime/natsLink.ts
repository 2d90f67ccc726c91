/**
 * The runtime's NATS: the configured server, or an embedded one when none is configured, and the
 * connection's health as its status events tell it (for `/healthz`).
 */
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ResolvedConfig } from '../config/config.js';
import type { Logger } from '../logger.js';
import { connectNats } from '../nats/connection.js';
import { type EmbeddedServer, startEmbeddedServer } from '../nats/embeddedServer.js';
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
  link?: NatsLink;
}

/** Connects to `config.nats.url`, or starts the embedded server first; fills `opened` as it goes. */
export async function openNats(config: ResolvedConfig, log: Logger, opened: OpenedNats): Promise<NatsLink> {
  let url = config.nats.url;
  if (!url) {
    opened.embedded = await startEmbeddedServer({ dataDir: config.dataDir, log });
    url = opened.embedded.url;
    log.info({ url, dataDir: config.dataDir }, 'embedded nats-server started (set NATS_URL to use your own)');
  }
  opened.url = url;
  const nc = await connectNats({ ...config.nats, url }, log);
  let health: Health = { ok: true };
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect')
        health = { ok: false, reason: `NATS disconnected from ${s.server}; reconnecting` };
      else if (s.type === 'reconnect') health = { ok: true };
      else if (s.type === 'close') health = { ok: false, reason: 'NATS connection closed' };
    }
  })();
  const embedded = opened.embedded;
  const link: NatsLink = {
    url,
    nc,
    js: jetstream(nc),
    jsm: await jetstreamManager(nc),
    health: () => health,
    async close() {
      try {
        await nc.drain();
      } catch {
        await nc.close().catch(() => {});
      }
      await embedded?.stop();
    },
  };
  opened.link = link;
  return link;
}
