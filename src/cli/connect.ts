/** The NATS connection and SQLite database a command works on, opened as the CLI needs them. */
import { existsSync } from 'node:fs';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  connectNats,
  findEmbeddedUrl,
  type Logger,
  openDatabase,
  ProsaError,
  type ResolvedConfig,
  type SqliteDatabase,
} from '../internal.js';

export interface Connected {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/**
 * Connects to NATS_URL, or the embedded server recorded under the data folder. When not `required`,
 * no server (or none answering) resolves to undefined, so commands that can do without NATS still run.
 */
export async function connect(config: ResolvedConfig, log: Logger, required: true): Promise<Connected>;
export async function connect(
  config: ResolvedConfig,
  log: Logger,
  required: boolean,
): Promise<Connected | undefined>;
export async function connect(
  config: ResolvedConfig,
  log: Logger,
  required: boolean,
): Promise<Connected | undefined> {
  const url = config.nats.url ?? findEmbeddedUrl(config.dataDir);
  if (!url) {
    if (!required) return undefined;
    throw new ProsaError(
      'PROSA_NATS_UNREACHABLE',
      `no NATS server: NATS_URL is not set and no embedded server is running for ${config.dataDir}; start one with \`npm start\` or set NATS_URL`,
    );
  }
  try {
    const nc = await connectNats(
      { ...config.nats, url, connectTimeout: Math.min(config.nats.connectTimeout, required ? 5_000 : 2_000) },
      log,
    );
    return { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
  } catch (e) {
    if (required) throw e;
    return undefined;
  }
}

/** The database, when the runtime has created it; read-only commands must not create an empty one. */
export const openIfExists = (config: ResolvedConfig): SqliteDatabase | undefined =>
  existsSync(config.sqlitePath) ? openDatabase(config.sqlitePath) : undefined;
