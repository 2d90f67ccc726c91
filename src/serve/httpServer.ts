/**
 * The operator's HTTP endpoints of `prosa run` (node:http, no framework):
 *
 *   GET /healthz   200 {"status":"ok"} when connected and consuming,
 *                  503 {"status":"unavailable","reason":"..."} otherwise
 *   GET /metrics   Prometheus text format (src/serve/metrics.ts), gauges refreshed from status first
 *   /, /console/*, /api/*  the operator's console when enabled (src/serve/console/createConsole.ts)
 *   anything else  404 (405 for another method on /healthz and /metrics)
 *
 *   const server = await startHttpServer({ host: '127.0.0.1', port: 9464, metrics, status, health, log });
 *   // => server.url === 'http://127.0.0.1:9464'
 *   await server.close();
 *
 * Loopback by default (config `http.host`): the endpoints carry no secrets but tell anyone who can
 * reach them what runs here.
 */
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProsaError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RuntimeStatus } from '../ops/status.js';
import { type ConsoleOptions, createConsole } from './console/createConsole.js';
import type { Metrics } from './metrics.js';

/** What `/healthz` reports: `ok`, or why not. */
export interface Health {
  ok: boolean;
  /** Why it is not ok, e.g. `NATS disconnected` or `projection topology is restarting: ...`. */
  reason?: string;
}

export interface HttpServerOptions {
  /** Interface to listen on (config `http.host`, default '127.0.0.1'). */
  host: string;
  /** Port to listen on; 0 picks a free one (config `http.port` or PROSA_HTTP_PORT, default 9464). */
  port: number;
  metrics: Metrics;
  /** The runtime's status; `/metrics` refreshes the gauges from it before answering. */
  status: () => Promise<RuntimeStatus>;
  /** The runtime's health, asked on every `/healthz` (keep it cheap and synchronous). */
  health: () => Health;
  log: Logger;
  /**
   * How long `/metrics` waits for `status()` before it serves the gauges as they are (a scrape
   * must not hang while NATS is slow or away).
   * @default 2_000 ms
   */
  statusTimeoutMs?: number;
  /** The operator's console at `/`; none when absent (config `http.console.enabled: false`). */
  console?: ConsoleOptions;
}

export interface HttpServer {
  /** e.g. `http://127.0.0.1:9464` */
  readonly url: string;
  /** The port listened on (the one picked when asked for 0). */
  readonly port: number;
  /** Stops listening and closes the connections (idle ones at once, busy ones after their answer). Idempotent. */
  close(): Promise<void>;
}

/** @default 2_000 ms: how long `/metrics` waits for status. */
export const DEFAULT_STATUS_TIMEOUT_MS = 2_000;

/** How long close() lets a request in flight finish before it cuts its connection. */
const CLOSE_GRACE_MS = 3_000;

const hostPort = (host: string, port: number) =>
  host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;

/** A listen failure, as a message that names the address and the config field to change. */
function listenError(e: NodeJS.ErrnoException, host: string, port: number): ProsaError {
  const where = `cannot serve /healthz and /metrics on ${hostPort(host, port)}`;
  const off = 'or set http.enabled: false to serve nothing';
  let message: string;
  switch (e.code) {
    case 'EADDRINUSE':
      message = `${where}: the port is in use (another prosa run or another program listens there); set http.port in runtime.config.ts (or PROSA_HTTP_PORT) to a free port (0 picks one), ${off}`;
      break;
    case 'EACCES':
      message = `${where}: permission denied (ports below 1024 need privileges); set http.port in runtime.config.ts to 1024 or above, ${off}`;
      break;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      message = `${where}: ${host} is not an address of this machine; set http.host in runtime.config.ts to one (127.0.0.1 for loopback only, 0.0.0.0 for every interface), ${off}`;
      break;
    default:
      message = `${where}: ${e.message}; check http.host and http.port in runtime.config.ts, ${off}`;
  }
  return new ProsaError('PROSA_CONFIG_INVALID', message, { cause: e });
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  code: number,
  contentType: string,
  body: string,
  headers: OutgoingHttpHeaders = {},
): void {
  res.writeHead(code, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { host, metrics, log } = options;
  // Before listening: a console beyond loopback without a token refuses to start.
  const consolePage = options.console
    ? createConsole({ ...options.console, host, log, now: () => Date.now() })
    : undefined;
  const statusTimeoutMs = options.statusTimeoutMs ?? DEFAULT_STATUS_TIMEOUT_MS;

  // Scrapes that overlap share one status() call, so a slow status does not pile up requests on it.
  let refreshing: Promise<void> | undefined;
  const refresh = (): Promise<void> => {
    if (refreshing) return refreshing;
    const p = (async () => {
      try {
        metrics.observe(await options.status());
      } catch (e) {
        log.warn({ err: e }, 'metrics: status could not be read; serving the gauges as they were');
      }
    })();
    refreshing = p;
    void p.then(() => {
      if (refreshing === p) refreshing = undefined;
    });
    return p;
  };

  /** Refreshes the gauges, waiting at most `statusTimeoutMs`. */
  const refreshBounded = async (): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      refresh().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), statusTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (late) {
      log.warn(
        { timeoutMs: statusTimeoutMs },
        'metrics: status took too long; serving the gauges as they were',
      );
    }
  };

  const healthz = (req: IncomingMessage, res: ServerResponse) => {
    let health: Health;
    try {
      health = options.health();
    } catch (e) {
      health = { ok: false, reason: `health check failed: ${(e as Error).message}` };
    }
    if (health.ok) send(req, res, 200, JSON_TYPE, '{"status":"ok"}');
    else {
      const body = { status: 'unavailable', reason: health.reason ?? 'unknown' };
      send(req, res, 503, JSON_TYPE, JSON.stringify(body));
    }
  };

  const metricsEndpoint = async (req: IncomingMessage, res: ServerResponse) => {
    await refreshBounded();
    const text = await metrics.registry.metrics();
    send(req, res, 200, metrics.registry.contentType, text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path !== '/healthz' && path !== '/metrics') {
      if (consolePage && (await consolePage.handle(req, res, path))) return;
      const what = consolePage ? ', GET /metrics and the console at /' : ' and GET /metrics';
      send(req, res, 404, TEXT_TYPE, `not found: prosa serves GET /healthz${what}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(req, res, 405, TEXT_TYPE, `method not allowed: ${path} answers GET and HEAD\n`, {
        allow: 'GET, HEAD',
      });
      return;
    }
    if (path === '/healthz') healthz(req, res);
    else await metricsEndpoint(req, res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log.error({ err: e, url: req.url }, 'http: request failed');
      if (!res.headersSent) send(req, res, 500, TEXT_TYPE, `internal error: ${(e as Error).message}\n`);
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(listenError(e, host, options.port));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port: options.port });
  });
  // Once listening, a server error must not crash the process: log it.
  server.on('error', (e) => log.error({ err: e }, 'http: server error'));

  const port = (server.address() as AddressInfo).port;
  const url = `http://${hostPort(host, port)}`;
  log.info(
    { url },
    `serving ${url}/healthz and ${url}/metrics${consolePage ? `, the console at ${url}/` : ''}`,
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        consolePage?.close(); // its event streams would hold the close open
        const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        cut.unref();
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        // Keep-alive connections of scrapers would otherwise hold close() open.
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
