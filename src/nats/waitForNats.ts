/**
 * The first connect of a long-running worker: it waits for a server that is down, restarting or not
 * reachable yet, trying again with {@link RECONNECT_BACKOFF}, as the connection itself does once it
 * is up. What cannot heal by waiting (credentials, TLS, a bad URL) still fails at once.
 *
 *   const nc = await waitForNats({ url }, { log, signal: stop.signal });
 *   if (!nc) return; // stopped while waiting
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../logger.js';
import {
  type ConnectNatsOptions,
  connectFailureCanHeal,
  connectNats,
  RECONNECT_BACKOFF,
  redactUrl,
} from './connection.js';

/** At most one warning per this interval while waiting (attempts come faster at first). */
export const WAIT_WARN_EVERY_MS = 5_000;

export interface WaitForNatsOptions {
  log: Logger;
  /** Stops the wait: waitForNats then resolves undefined at once. */
  signal: AbortSignal;
  /** Told of each failed attempt that will be tried again (the first one marks the wait's start). */
  onWaiting?: (error: Error) => void;
  /** @default {@link WAIT_WARN_EVERY_MS} */
  warnEveryMs?: number;
}

/** The delay before attempt `attempt + 1`: 250 ms doubling to 5 s, with up to 25% jitter. */
const backoff = (attempt: number): number =>
  Math.round(
    Math.min(RECONNECT_BACKOFF.maxMs, RECONNECT_BACKOFF.initialMs * 2 ** (attempt - 1)) *
      (1 + Math.random() * RECONNECT_BACKOFF.jitter),
  );

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** One connect attempt that gives way to `signal`: undefined when stopped (a late connection is closed). */
async function attempt(
  options: ConnectNatsOptions,
  log: Logger,
  signal: AbortSignal,
): Promise<NatsConnection | undefined> {
  const pending = connectNats(options, log);
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort);
  });
  try {
    const nc = await Promise.race([pending, stopped]);
    if (nc && signal.aborted) {
      await nc.close().catch(() => {});
      return undefined;
    }
    if (!nc) pending.then((late) => late.close()).catch(() => {});
    return nc;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Connects to NATS, waiting as long as it takes while the server refuses or does not answer (a warn
 * naming the URL every {@link WAIT_WARN_EVERY_MS}); rejects at once with connectNats's error when
 * the failure cannot heal. Resolves undefined when `signal` aborts first.
 */
export async function waitForNats(
  options: ConnectNatsOptions,
  { log, signal, onWaiting, warnEveryMs = WAIT_WARN_EVERY_MS }: WaitForNatsOptions,
): Promise<NatsConnection | undefined> {
  const display = redactUrl(options.url);
  const since = Date.now();
  let warned = Number.NEGATIVE_INFINITY;
  for (let n = 1; !signal.aborted; n++) {
    try {
      const nc = await attempt(options, log, signal);
      if (nc && n > 1)
        log.info({ url: display, attempts: n }, `connected to NATS at ${display} after waiting for it`);
      return nc;
    } catch (e) {
      if (!connectFailureCanHeal(e)) throw e;
      onWaiting?.(e as Error);
      const now = Date.now();
      if (now - warned >= warnEveryMs) {
        warned = now;
        log.warn(
          { url: display, attempts: n, waitedMs: now - since, reason: (e as Error).message },
          `waiting for NATS at ${display}; trying again (set nats.waitAtStart: false to fail instead)`,
        );
      }
      await pause(backoff(n), signal);
    }
  }
  return undefined;
}
