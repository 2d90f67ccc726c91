/**
 * The control plane: commands that act on a running worker travel as NATS requests on
 * `prosa.control.<worker>.<command>`, so they work from any machine with the same credentials.
 * When no worker answers (no responders), the command does its work on SQLite itself.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { RawEvent } from '../define/projection.js';
import type { Logger } from '../logger.js';

export const CONTROL_PREFIX = 'prosa.control';

export type ControlCommand = 'pause' | 'resume' | 'retry' | 'skip' | 'ping' | 'handover';

/**
 * What a handler returns to stay silent: every process running a worker hears its commands, and
 * one that a command is not for (a standby asked to hand a lease over) lets the one it is for answer.
 */
export const NOT_HERE: unique symbol = Symbol('not here');

export interface ControlReply {
  ok: boolean;
  error?: string;
  /** Command-specific result. */
  result?: unknown;
}

export type ControlHandler = (
  worker: string,
  command: ControlCommand,
  body: Record<string, unknown>,
) => Promise<unknown>;

/** Serves control requests for this process's workers; `handler` throws to answer with an error. */
export function serveControl(
  nc: NatsConnection,
  workers: () => readonly string[],
  handler: ControlHandler,
  log: Logger,
): Subscription {
  const sub = nc.subscribe(`${CONTROL_PREFIX}.*.*`, {
    callback: (err, msg) => {
      if (err) {
        log.warn({ err }, 'control subscription error');
        return;
      }
      const [, , worker = '', command = ''] = msg.subject.split('.');
      if (!workers().includes(worker)) return; // another process's worker: stay silent
      let body: Record<string, unknown> = {};
      try {
        body = msg.data.length > 0 ? (msg.json() as Record<string, unknown>) : {};
      } catch {
        msg.respond(JSON.stringify({ ok: false, error: 'request body is not JSON' } satisfies ControlReply));
        return;
      }
      handler(worker, command as ControlCommand, body).then(
        (result) => {
          if (result !== NOT_HERE) msg.respond(JSON.stringify({ ok: true, result } satisfies ControlReply));
        },
        (e: unknown) =>
          msg.respond(
            JSON.stringify({
              ok: false,
              error: e instanceof Error ? e.message : String(e),
            } satisfies ControlReply),
          ),
      );
    },
  });
  return sub;
}

/**
 * How an operator command reaches the process that runs a worker: `sendControl` over NATS from
 * another process; inside `prosa run` (its console) the same handler is called in process.
 * Resolves to undefined when no process runs the worker.
 */
export type ControlSender = (
  worker: string,
  command: ControlCommand,
  body?: Record<string, unknown>,
  timeoutMs?: number,
) => Promise<ControlReply | undefined>;

/**
 * Sends a control command to whichever process runs `worker`. Resolves to undefined when no process
 * runs it (no responders), so the caller can act on SQLite itself.
 */
export async function sendControl(
  nc: NatsConnection,
  worker: string,
  command: ControlCommand,
  body: Record<string, unknown> = {},
  timeoutMs = 15_000,
  /** A timeout means no process it was for runs (processes that are not stay silent). */
  silentOk = false,
): Promise<ControlReply | undefined> {
  try {
    const reply = await nc.request(`${CONTROL_PREFIX}.${worker}.${command}`, JSON.stringify(body), {
      timeout: timeoutMs,
    });
    return reply.json() as ControlReply;
  } catch (e) {
    const text = `${(e as Error).message} ${(e as { code?: string }).code ?? ''} ${(e as Error).name}`;
    if (/no responders|503|NoResponders/i.test(text)) return undefined;
    // Every process that heard it stayed silent (NOT_HERE): none it was for runs.
    if (silentOk && /timeout|TimeoutError/i.test(text)) return undefined;
    throw e;
  }
}

/** Base64 wire form of messages for a control request (`retry` carries the dead letters to feed again). */
export const encodeMessages = (messages: readonly RawEvent[]) =>
  messages.map((m) => ({ seq: m.seq, subject: m.subject, data: Buffer.from(m.data).toString('base64') }));
export const decodeMessages = (body: unknown): RawEvent[] =>
  ((body as { messages?: { seq: number; subject: string; data: string }[] }).messages ?? []).map((m) => ({
    seq: m.seq,
    subject: m.subject,
    data: new Uint8Array(Buffer.from(m.data, 'base64')),
  }));
