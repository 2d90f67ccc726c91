/**
 * Who may use the console: loopback by default; bound to another address every action needs the
 * token (and so does the start), reads too when `protectReads` is set. Cross-site requests cannot
 * act: state changes only by POST, which must carry the console's own header (a cross-site page
 * cannot send it without a CORS preflight nobody answers) and, when the browser names one, an
 * Origin equal to the address asked for. The Host header must name this server (DNS rebinding).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ProsaError } from '../../errors.js';

/** The header every action must carry (the page sends it; a form or an image cannot). */
export const ACTION_HEADER = 'x-prosa-console';

export interface GuardOptions {
  /** The interface the server listens on (config `http.host`). */
  host: string;
  /** The console's token, when set (PROSA_CONSOLE_TOKEN or `http.console.token`). */
  token: string | undefined;
  /** Whether reads need the token too. */
  protectReads: boolean;
}

/** A refused request: the status to answer and why. */
export interface Refusal {
  status: 401 | 403;
  message: string;
}

const LOOPBACK_NAMES = new Set(['localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return LOOPBACK_NAMES.has(h) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** Throws unless the console may start on `host`: beyond loopback it needs a token. */
export function assertConsoleStartable(o: GuardOptions): void {
  if (isLoopback(o.host) || o.token) return;
  throw new ProsaError(
    'PROSA_CONFIG_INVALID',
    `the console would answer on ${o.host}, beyond loopback, without a token: set PROSA_CONSOLE_TOKEN (or http.console.token in runtime.config.ts, at least 16 characters), or set http.host to 127.0.0.1, or http.console.enabled: false`,
  );
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The host part of a Host header or URL authority, lower case, without the port. */
function hostName(authority: string): string {
  const a = authority.toLowerCase();
  if (a.startsWith('[')) return a.slice(0, a.indexOf(']') + 1);
  const colon = a.lastIndexOf(':');
  return colon < 0 ? a : a.slice(0, colon);
}

export function createGuard(o: GuardOptions) {
  const expected = o.token ? digest(o.token) : undefined;
  const loopbackOnly = isLoopback(o.host);

  const tokenOk = (req: IncomingMessage): boolean => {
    if (!expected) return true;
    const auth = req.headers.authorization ?? '';
    const given = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
    return given !== '' && timingSafeEqual(digest(given), expected);
  };

  /** On loopback, a Host header naming another machine means a rebound DNS name: refuse it. */
  const hostOk = (req: IncomingMessage): boolean => {
    if (!loopbackOnly) return true;
    const host = req.headers.host;
    return host !== undefined && isLoopback(hostName(host));
  };

  const originOk = (req: IncomingMessage): boolean => {
    const origin = req.headers.origin;
    if (origin === undefined) return true; // not a browser: the header and token checks still apply
    try {
      return new URL(origin).host.toLowerCase() === (req.headers.host ?? '').toLowerCase();
    } catch {
      return false;
    }
  };

  return {
    /** Why any request is refused for its Host alone, or undefined when allowed. */
    host(req: IncomingMessage): Refusal | undefined {
      return hostOk(req) ? undefined : { status: 403, message: 'the Host header does not name this console' };
    },
    /** Why a read (GET of /api/...) is refused, or undefined when allowed. */
    read(req: IncomingMessage): Refusal | undefined {
      if (!hostOk(req)) return { status: 403, message: 'the Host header does not name this console' };
      if (o.protectReads && !tokenOk(req))
        return { status: 401, message: 'this console needs its token (Authorization: Bearer <token>)' };
      return undefined;
    },
    /** Why an action (POST of /api/...) is refused, or undefined when allowed. */
    action(req: IncomingMessage): Refusal | undefined {
      if (!hostOk(req)) return { status: 403, message: 'the Host header does not name this console' };
      if (!originOk(req))
        return { status: 403, message: 'cross-site request refused (Origin is not this console)' };
      if (req.headers[ACTION_HEADER] !== '1')
        return { status: 403, message: `an action needs the header ${ACTION_HEADER}: 1` };
      if (!tokenOk(req))
        return {
          status: 401,
          message: 'this action needs the console token (Authorization: Bearer <token>)',
        };
      return undefined;
    },
    /** Whether the page must ask for the token before it reads or acts. */
    describe: () => ({ tokenRequired: expected !== undefined, protectReads: o.protectReads }),
  };
}

export type Guard = ReturnType<typeof createGuard>;
