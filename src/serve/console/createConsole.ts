/**
 * The operator's console, served by the same server as /metrics: the page at `/`, its files under
 * `/console/`, its API under `/api/` (src/serve/console/consoleApi.ts), behind the guard
 * (consoleGuard.ts). State changes only by POST; a GET never changes anything.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { defaults } from '../../defaults.js';
import { type ErrorCode, ProsaError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { type ConsoleBackend, createConsoleApi } from './consoleApi.js';
import { createAssets } from './consoleAssets.js';
import { assertConsoleStartable, createGuard, type Refusal } from './consoleGuard.js';
import { createLiveFeed } from './liveFeed.js';
import { createRebuildTracker, type StartRebuild } from './rebuildTracker.js';

export interface ConsoleOptions {
  backend: ConsoleBackend;
  /** Starts a rebuild (the runtime's `rebuild`). */
  rebuild: StartRebuild;
  /** PROSA_CONSOLE_TOKEN or `http.console.token`. */
  token: string | undefined;
  protectReads: boolean;
  /** @default 2_000 ms */
  refreshMs?: number;
  /** @default 150 */
  historySamples?: number;
}

export interface Console {
  /** Answers a request of the console's, or returns false when the path is not the console's. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  close(): void;
}

/** Scripts only from this server, nothing framed, nothing sniffed: a body that got into the page as markup still could not run. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  PROSA_NOT_FOUND: 404,
  PROSA_REBUILD_RUNNING: 409,
  PROSA_SQLITE: 409,
  PROSA_NATS_UNREACHABLE: 503,
  PROSA_CONFIG_INVALID: 400,
};

const MAX_BODY_BYTES = 16 * 1024;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...PAGE_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ProsaError('PROSA_CONFIG_INVALID', 'request body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ProsaError('PROSA_CONFIG_INVALID', 'request body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ProsaError('PROSA_CONFIG_INVALID', 'request body must be a JSON object');
  return body as Record<string, unknown>;
}

export function createConsole(o: ConsoleOptions & { host: string; log: Logger; now: () => number }): Console {
  assertConsoleStartable({ host: o.host, token: o.token, protectReads: o.protectReads });
  const guard = createGuard({ host: o.host, token: o.token, protectReads: o.protectReads });
  const assets = createAssets();
  const rebuilds = createRebuildTracker(o.rebuild, o.now);
  const api = createConsoleApi(o.backend, rebuilds);
  const feed = createLiveFeed({
    status: () => o.backend.status(),
    rebuilds: () => rebuilds.list(),
    refreshMs: o.refreshMs ?? defaults.http.console.refreshMs,
    historySamples: o.historySamples ?? defaults.http.console.historySamples,
    now: o.now,
    log: o.log,
  });

  const refuse = (res: ServerResponse, r: Refusal) => json(res, r.status, { error: r.message });

  async function handleApi(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const parts = path.slice('/api/'.length).split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method === 'GET') {
      // Whether the page must ask for a token: open (it holds no data), as the page itself is.
      const session = parts.length === 1 && parts[0] === 'session';
      const refusal = session ? guard.host(req) : guard.read(req);
      if (refusal) return refuse(res, refusal);
      if (session) return json(res, 200, guard.describe());
      if (parts.length === 1 && parts[0] === 'events') return feed.listen(res);
      const answer = await api.read(parts);
      if (answer) return json(res, answer.status, answer.body);
      return json(res, 404, { error: `no such read: GET ${path}` });
    }
    if (req.method === 'POST') {
      const refusal = guard.action(req);
      if (refusal) return refuse(res, refusal);
      const answer = await api.act(parts, await readJsonBody(req));
      if (answer) return json(res, answer.status, answer.body);
      return json(res, 404, { error: `no such action: POST ${path}` });
    }
    res.setHeader('allow', 'GET, POST');
    return json(res, 405, { error: `method not allowed: ${req.method}` });
  }

  return {
    async handle(req, res, path) {
      if (path.startsWith('/api/')) {
        try {
          await handleApi(req, res, path);
        } catch (e) {
          if (!(e instanceof ProsaError) && !(e instanceof URIError)) throw e;
          const status = e instanceof ProsaError ? (STATUS_OF[e.code] ?? 500) : 400;
          json(res, status, { error: e.message, ...(e instanceof ProsaError ? { code: e.code } : {}) });
        }
        return true;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      let asset: ReturnType<typeof assets.get>;
      try {
        asset = assets.get(path);
      } catch (e) {
        if (e instanceof URIError) return false;
        throw e;
      }
      if (!asset) return false;
      res.writeHead(200, {
        ...PAGE_HEADERS,
        'content-type': asset.type,
        'content-length': asset.body.length,
        'cache-control': 'no-cache',
      });
      res.end(req.method === 'HEAD' ? undefined : asset.body);
      return true;
    },
    close: () => feed.close(),
  };
}
