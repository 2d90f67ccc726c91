/**
 * The NATS connection: named, `noAsyncTraces` (nats.js otherwise builds an Error per request for
 * async stack context, a cost on every publish and fetch), every authentication form of
 * runtime.config.ts, a bounded first connect that fails with a message a person can act on, and
 * once connected, reconnects forever with capped exponential backoff and jitter.
 *
 *   const nc = await connectNats({ url: 'nats://127.0.0.1:4222', user: 'prosa', password }, log);
 *   requireServerVersion(nc, [2, 10, 0], 'streams.DLQ.compression');
 *
 * Messages name the server (with any `user:password@` or `token@` part of the URL masked), never a
 * password, token or seed.
 */
import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import {
  type Authenticator,
  AuthorizationError,
  connect,
  credsAuthenticator,
  InvalidArgumentError,
  type NatsConnection,
  type NodeConnectionOptions,
  nkeyAuthenticator,
  nkeys,
  TimeoutError,
  UserAuthenticationExpiredError,
} from '@nats-io/transport-node';
import type { NatsOptions } from '../config/config.js';
import { ProsaError } from '../errors.js';
import type { Logger } from '../logger.js';

/** What `connectNats` needs: the connection part of runtime.config.ts, with a URL. */
export type ConnectNatsOptions = Partial<NatsOptions> & {
  /** One or more server URLs, comma separated. `nats://user:pass@host` and `nats://token@host` work. */
  url: string;
};

/** @default 5_000 ms: how long the first connect may take before it fails. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Reconnect backoff once connected: the first attempt at once, then 250 ms doubling to 5 s, each
 * with up to 25% random jitter (so a fleet does not reconnect in lockstep). Never gives up.
 */
export const RECONNECT_BACKOFF = { initialMs: 250, maxMs: 5_000, jitter: 0.25 } as const;

/** Client pings every 20 s; 3 unanswered pings (a half-open socket) trigger a reconnect. */
const PING_INTERVAL_MS = 20_000;
const MAX_PINGS_OUT = 3;

/** A version as [major, minor, patch]. */
export type ServerVersion = readonly [major: number, minor: number, patch: number];

// ---------------------------------------------------------------------------------------------
// URLs

interface ParsedUrls {
  /** host:port entries for nats.js (credentials removed). */
  servers: string[];
  /** The same URLs with credentials masked, for messages and logs. */
  display: string;
  /** Credentials found in the URL (the first URL that has any). */
  user?: string;
  password?: string;
  token?: string;
  /** Some URL asked for TLS (tls://). */
  tls: boolean;
}

const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)?([^@/]*)@(.*)$/i;

/** Masks `user:password@` as `user:***@` and `token@` as `***@` in one or more URLs. */
export function redactUrl(url: string): string {
  return url
    .split(',')
    .map((part) => {
      const m = USERINFO.exec(part.trim());
      if (!m) return part.trim();
      const userinfo = m[2] ?? '';
      const colon = userinfo.indexOf(':');
      const masked = colon >= 0 ? `${userinfo.slice(0, colon)}:***` : '***';
      return `${m[1] ?? ''}${masked}@${m[3] ?? ''}`;
    })
    .join(',');
}

function parseUrls(url: string): ParsedUrls {
  const out: ParsedUrls = { servers: [], display: redactUrl(url), tls: false };
  for (const raw of url.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    if (/^tls:\/\//i.test(part)) out.tls = true;
    const m = USERINFO.exec(part);
    if (!m) {
      out.servers.push(part);
      continue;
    }
    out.servers.push(`${m[1] ?? ''}${m[3] ?? ''}`);
    const userinfo = m[2] ?? '';
    if (out.user !== undefined || out.token !== undefined || userinfo === '') continue;
    const colon = userinfo.indexOf(':');
    if (colon >= 0) {
      out.user = decodeURIComponent(userinfo.slice(0, colon));
      out.password = decodeURIComponent(userinfo.slice(colon + 1));
    } else {
      out.token = decodeURIComponent(userinfo);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Authentication

interface Auth {
  /** Options for connect(). */
  options: Pick<NodeConnectionOptions, 'user' | 'pass' | 'token' | 'authenticator' | 'tls'>;
  /** How a person would describe the credentials used, with the settings that hold them. */
  described: string;
  /** Secrets to scrub from any message, just in case a cause echoes one. */
  secrets: string[];
}

const isPem = (value: string) => value.includes('-----BEGIN ');

function readSecretFile(path: string, what: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ProsaError(
      'PROSA_NATS_AUTH',
      `cannot read the ${what} at ${path} (${setting}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; ` +
        'check the path and that this user may read the file',
      { cause: e },
    );
  }
}

function nkeySeedOf(value: string): string {
  const trimmed = value.trim();
  // A seed is base32 starting with S; anything else is a path to a file holding one.
  const seed = /^S[A-Z2-7]{50,}$/.test(trimmed)
    ? trimmed
    : readSecretFile(trimmed, 'nkey seed file', 'nats.nkeySeed, NATS_NKEY_SEED').trim();
  try {
    nkeys.fromSeed(new TextEncoder().encode(seed));
  } catch (e) {
    throw new ProsaError(
      'PROSA_NATS_AUTH',
      'nats.nkeySeed (NATS_NKEY_SEED) is neither an nkey seed (SU...) nor a file holding one; ' +
        'give the seed itself or the path of the file `nk -gen user` wrote',
      { cause: e },
    );
  }
  return seed;
}

function buildAuth(options: ConnectNatsOptions, fromUrl: ParsedUrls): Auth {
  const user = options.user ?? fromUrl.user;
  const password = options.user !== undefined ? options.password : (options.password ?? fromUrl.password);
  const token = options.token ?? (user === undefined ? fromUrl.token : undefined);
  const auth: Auth = { options: {}, described: 'no credentials', secrets: [] };
  const described: string[] = [];
  const authenticators: Authenticator[] = [];

  if (user !== undefined) {
    auth.options.user = user;
    auth.options.pass = password ?? '';
    if (password) auth.secrets.push(password);
    described.push(`user "${user}" with a password (nats.user/nats.password, NATS_USER/NATS_PASSWORD)`);
  } else if (token !== undefined) {
    auth.options.token = token;
    auth.secrets.push(token);
    described.push('a token (nats.token, NATS_TOKEN)');
  }
  if (options.credsFile) {
    const creds = readSecretFile(options.credsFile, 'credentials file', 'nats.credsFile, NATS_CREDS');
    authenticators.push(credsAuthenticator(new TextEncoder().encode(creds)));
    described.push(`the credentials file ${options.credsFile} (nats.credsFile, NATS_CREDS)`);
  }
  if (options.nkeySeed) {
    const seed = nkeySeedOf(options.nkeySeed);
    auth.secrets.push(seed);
    authenticators.push(nkeyAuthenticator(new TextEncoder().encode(seed)));
    described.push('an nkey seed (nats.nkeySeed, NATS_NKEY_SEED)');
  }
  if (authenticators.length > 0) auth.options.authenticator = authenticators;

  const tls = options.tls;
  if (tls && (tls.ca || tls.cert || tls.key)) {
    // Each may be the PEM text itself or the path of a file holding it.
    const t: NonNullable<NodeConnectionOptions['tls']> = {};
    if (tls.ca) Object.assign(t, isPem(tls.ca) ? { ca: tls.ca } : { caFile: tls.ca });
    if (tls.cert) Object.assign(t, isPem(tls.cert) ? { cert: tls.cert } : { certFile: tls.cert });
    if (tls.key) Object.assign(t, isPem(tls.key) ? { key: tls.key } : { keyFile: tls.key });
    auth.options.tls = t;
    if (tls.cert) described.push('a TLS client certificate (nats.tls, NATS_CERT/NATS_KEY)');
  } else if (fromUrl.tls) {
    auth.options.tls = {};
  }
  if (described.length > 0) auth.described = described.join(' and ');
  return auth;
}

// ---------------------------------------------------------------------------------------------
// Errors

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  // Very short secrets would mangle ordinary words; nats errors never echo credentials anyway.
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return out;
}

const errnoOf = (e: unknown): string | undefined => {
  for (let c: unknown = e, depth = 0; c && depth < 4; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  }
  return undefined;
};

/**
 * Why a first connect failed, and with it whether trying again can succeed: `auth` (credentials
 * refused or expired), `tls` (a handshake or certificate problem), `config` (a URL nats.js cannot
 * parse) cannot heal by waiting; `timeout` (no answer) and `unreachable` (refused, unknown host,
 * reset) can, once the server is up.
 */
export type ConnectFailure = 'auth' | 'tls' | 'config' | 'timeout' | 'unreachable';

/** The one place that reads nats.js's (and Node's) connect errors. */
function classifyConnectFailure(e: unknown): ConnectFailure {
  if (e instanceof AuthorizationError || e instanceof UserAuthenticationExpiredError) return 'auth';
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof TimeoutError || message === 'timeout') return 'timeout';
  if (/tls|certificate|ssl/i.test(message) || /CERT|TLS|SSL/.test(errnoOf(e) ?? '')) return 'tls';
  // new URL() throws a TypeError; nats.js rejects bad options with an InvalidArgumentError.
  if (e instanceof TypeError || e instanceof InvalidArgumentError) return 'config';
  return 'unreachable';
}

/**
 * Whether an error of {@link connectNats} can heal by itself (the server is down, restarting, or
 * not reachable yet), so a long-running worker should try again rather than exit.
 */
export function connectFailureCanHeal(e: unknown): boolean {
  if (!(e instanceof ProsaError) || e.code !== 'PROSA_NATS_UNREACHABLE') return false;
  const kind = classifyConnectFailure(e.cause);
  return kind === 'timeout' || kind === 'unreachable';
}

function connectError(e: unknown, display: string, auth: Auth, timeoutMs: number): ProsaError {
  if (e instanceof ProsaError) return e;
  const at = `cannot connect to NATS at ${display}`;
  const message = e instanceof Error ? e.message : String(e);
  const kind = classifyConnectFailure(e);
  let text: string;
  switch (kind) {
    case 'auth':
      text =
        auth.described === 'no credentials'
          ? `${at}: the server requires authentication (${message}) and none was given. ` +
            'Set NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS or NATS_NKEY_SEED (or nats.* in runtime.config.ts).'
          : `${at}: the server refused the credentials (${message}). ` +
            `Check the credentials: ${auth.described}.`;
      break;
    case 'timeout':
      text =
        `${at}: no answer within ${timeoutMs} ms (timeout). Check that nats-server runs there and that ` +
        'nothing (a firewall, a wrong host) swallows the connection; nats.connectTimeout sets the limit.';
      break;
    case 'tls':
      text =
        `${at}: the TLS handshake failed (${message}). Check the URL scheme (tls://) and nats.tls ` +
        '(NATS_CA, NATS_CERT, NATS_KEY): the CA must sign the server certificate, and the server may require a client certificate.';
      break;
    case 'config':
      text =
        `${at}: ${message}. NATS_URL (nats.url) must be one or more server URLs, comma separated, ` +
        'like nats://host:4222 or tls://host:4222 (a port from 1 to 65535).';
      break;
    default: {
      const errno = errnoOf(e);
      const why = errno && !message.includes(errno) ? `${message} (${errno})` : message;
      text =
        `${at}: ${why}. Check that nats-server runs and listens there and that NATS_URL (nats.url) is right` +
        "; unset NATS_URL to use prosa's embedded server instead.";
    }
  }
  const code = kind === 'auth' ? 'PROSA_NATS_AUTH' : 'PROSA_NATS_UNREACHABLE';
  return new ProsaError(code, scrub(text, auth.secrets), { cause: e });
}

// ---------------------------------------------------------------------------------------------
// Connect

/**
 * Connects to NATS. The first connect is bounded by `connectTimeout` (@default 5 s) and fails with a
 * `ProsaError` (`PROSA_NATS_UNREACHABLE` or `PROSA_NATS_AUTH`) naming the URL and the cause; once
 * connected, the client reconnects forever ({@link RECONNECT_BACKOFF}), logging each disconnect at
 * warn and each reconnect at info.
 */
export async function connectNats(options: ConnectNatsOptions, log?: Logger): Promise<NatsConnection> {
  const urls = parseUrls(options.url);
  const timeoutMs = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const auth = buildAuth(options, urls);

  // The client asks for the delay before every dial; the attempt counter only moves when a dial
  // happens (reconnectToServer is called once per dial), so the delay is stable while it waits.
  let attempt = 0;
  let jittered = 0;
  let jitteredFor = -1;
  const delay = () => {
    if (jitteredFor !== attempt) {
      const base = Math.min(
        RECONNECT_BACKOFF.maxMs,
        RECONNECT_BACKOFF.initialMs * 2 ** Math.max(0, attempt - 1),
      );
      jittered = Math.round(base * (1 + Math.random() * RECONNECT_BACKOFF.jitter));
      jitteredFor = attempt;
    }
    return jittered;
  };

  // nats.js 3.4 leaves the socket open (and the process alive) when a server accepts the TCP
  // connection but never sends INFO, and waits the whole timeout on it before trying the next
  // server of a list: so dial only servers that answer.
  const servers = await reachableServers(urls.servers, timeoutMs);
  if (servers.length === 0) throw connectError(new TimeoutError(), urls.display, auth, timeoutMs);

  const pending = connect({
    servers,
    name: options.name ?? 'prosa',
    noAsyncTraces: true,
    timeout: timeoutMs,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectDelayHandler: delay,
    reconnectToServer: () => {
      attempt++;
      return null;
    },
    // An auth failure after a server restart (credentials rotating) must not end the worker.
    ignoreAuthErrorAbort: true,
    pingInterval: PING_INTERVAL_MS,
    maxPingOut: MAX_PINGS_OUT,
    ...auth.options,
  });

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError()), timeoutMs);
  });
  let nc: NatsConnection;
  try {
    nc = await Promise.race([pending, deadline]);
  } catch (e) {
    // A connect still under way after the deadline must not leave a connection behind.
    pending.then((late) => late.close()).catch(() => {});
    throw connectError(e, urls.display, auth, timeoutMs);
  } finally {
    clearTimeout(timer);
  }
  attempt = 0;
  void watchStatus(nc, urls.display, log, () => {
    attempt = 0;
  });
  return nc;
}

/** After the first server answers, how long the probe waits for the others of a list. */
const PROBE_GRACE_MS = 250;

/**
 * The servers to dial: those that sent INFO (waiting at most {@link PROBE_GRACE_MS} for the rest
 * once one has); else those that refused, so nats.js reports why; empty when all stayed silent.
 * A server left out now is found again through the cluster's gossip.
 */
function reachableServers(servers: readonly string[], timeoutMs: number): Promise<string[]> {
  const abort = new AbortController();
  const results = new Map<string, 'info' | 'error' | 'silent'>();
  return new Promise<string[]>((resolve) => {
    const pick = () => {
      const answered = servers.filter((s) => results.get(s) === 'info');
      resolve(answered.length > 0 ? answered : servers.filter((s) => results.get(s) === 'error'));
    };
    if (servers.length === 0) pick();
    let grace: NodeJS.Timeout | undefined;
    for (const server of servers) {
      void probeInfo(server, timeoutMs, abort.signal).then((r) => {
        if (!results.has(server)) results.set(server, r);
        if (results.size === servers.length) {
          clearTimeout(grace);
          pick();
        } else if (r === 'info' && grace === undefined) {
          grace = setTimeout(pick, PROBE_GRACE_MS);
        }
      });
    }
  }).finally(() => abort.abort());
}

/**
 * Whether a server answers with INFO within `timeoutMs`: 'info', 'error' (refused, unknown host:
 * nats.js reports those itself) or 'silent' (also when aborted). The socket is always destroyed.
 */
function probeInfo(
  server: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<'info' | 'error' | 'silent'> {
  let host = '127.0.0.1';
  let port = 4222;
  try {
    const u = new URL(
      /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server.replace(/^[^:]+/, 'nats') : `nats://${server}`,
    );
    host = u.hostname.replace(/^\[(.*)\]$/, '$1') || host;
    port = u.port ? Number(u.port) : port;
  } catch {
    return Promise.resolve('error');
  }
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (r: 'info' | 'error' | 'silent') => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
    const onAbort = () => done('silent');
    const timer = setTimeout(() => done('silent'), timeoutMs);
    signal.addEventListener('abort', onAbort);
    socket.once('data', () => done('info'));
    socket.once('error', () => done('error'));
    socket.once('close', () => done('error'));
  });
}

async function watchStatus(
  nc: NatsConnection,
  display: string,
  log: Logger | undefined,
  reconnected: () => void,
) {
  let lastError = '';
  try {
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          log?.warn({ server: s.server }, `NATS disconnected from ${s.server}; reconnecting (${display})`);
          break;
        case 'reconnect':
          reconnected();
          lastError = '';
          log?.info({ server: s.server }, `NATS reconnected to ${s.server}`);
          break;
        case 'error':
          // The same error repeats on every attempt while a server refuses us; say it once.
          if (s.error.message !== lastError) log?.error({ err: s.error }, `NATS error: ${s.error.message}`);
          lastError = s.error.message;
          break;
        case 'staleConnection':
          log?.warn('NATS connection stale (pings unanswered); reconnecting');
          break;
        case 'ldm':
          log?.warn(
            { server: s.server },
            `NATS server ${s.server} entered lame duck mode; will move to another`,
          );
          break;
        case 'slowConsumer':
          log?.warn({ subject: s.sub.getSubject(), pending: s.pending }, 'NATS slow consumer');
          break;
        case 'reconnecting':
          log?.debug('NATS reconnect attempt');
          break;
        default:
          break;
      }
    }
  } catch {
    // The status iterator ends with the connection.
  }
}

// ---------------------------------------------------------------------------------------------
// Server version and JetStream

/** The connected server's version as [major, minor, patch] (e.g. [2, 9, 10]). */
export function serverVersion(nc: NatsConnection): ServerVersion {
  const v = nc.info?.version ?? '';
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(v);
  if (!m)
    throw new ProsaError(
      'PROSA_NATS_UNREACHABLE',
      `not connected to a NATS server (no server version known; got "${v}")`,
    );
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export const formatVersion = (v: ServerVersion): string => v.join('.');

/** -1, 0 or 1 as `a` is older than, the same as, or newer than `b`. */
export function compareVersions(a: ServerVersion, b: ServerVersion): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** Whether the connected server is at least `min`. */
export const serverAtLeast = (nc: NatsConnection, min: ServerVersion): boolean =>
  compareVersions(serverVersion(nc), min) >= 0;

/**
 * Throws `PROSA_SERVER_TOO_OLD` unless the connected server is at least `min`.
 * @param feature what needs it, as the user wrote it, e.g. `streams.DLQ.compression`.
 */
export function requireServerVersion(nc: NatsConnection, min: ServerVersion, feature: string): void {
  const have = serverVersion(nc);
  if (compareVersions(have, min) >= 0) return;
  throw new ProsaError(
    'PROSA_SERVER_TOO_OLD',
    `${feature} needs nats-server ${formatVersion(min)} or newer, but the server at ${nc.getServer()} runs ${formatVersion(have)}; ` +
      `upgrade nats-server, or remove ${feature} from runtime.config.ts`,
  );
}

/** The oldest nats-server prosa runs on. */
export const MIN_SERVER_VERSION: ServerVersion = [2, 9, 0];

/**
 * A JetStream manager for `nc`, or `PROSA_JETSTREAM_DISABLED` when the server (or the account)
 * has no JetStream.
 */
export async function requireJetStream(nc: NatsConnection): Promise<JetStreamManager> {
  const where = nc.getServer();
  if (nc.info && nc.info.jetstream !== true) {
    throw new ProsaError(
      'PROSA_JETSTREAM_DISABLED',
      `the NATS server at ${where} runs without JetStream; start nats-server with -js (or a jetstream {} block in its config)`,
    );
  }
  try {
    return await jetstreamManager(nc);
  } catch (e) {
    throw new ProsaError(
      'PROSA_JETSTREAM_DISABLED',
      `JetStream is not available to this account on the NATS server at ${where} (${(e as Error).message}); ` +
        'enable JetStream for the account (jetstream: enabled in its server config)',
      { cause: e },
    );
  }
}
