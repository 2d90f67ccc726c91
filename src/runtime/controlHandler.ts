/**
 * What a running process answers on the control subject (src/nats/control.ts): the same calls the
 * runtime exposes, for the workers that run here. `prosa pause|resume|dlq retry|dlq skip` from any terminal
 * end up in these calls.
 */
import { hostname } from 'node:os';
import { type ControlHandler, decodeMessages, NOT_HERE } from '../nats/control.js';
import type { SagaWorker } from './sagaWorker.js';
import type { Worker } from './worker.js';

export interface ControlTarget {
  /** A worker that runs here, or a typed error naming the configured ones. */
  workerNamed(name: string): Worker;
  /** A worker that runs here, if any (a projection being rebuilt before its start has none). */
  find(name: string): Worker | undefined;
  /** A saga worker that runs here, if any. */
  saga(name: string): SagaWorker | undefined;
}

export function createControlHandler(target: ControlTarget): ControlHandler {
  return async (name, command, body) => {
    switch (command) {
      case 'ping': {
        const w = target.find(name);
        const lease = target.saga(name)?.lease;
        return {
          pid: process.pid,
          checkpoint: w?.checkpoint ?? null,
          state: w?.state ?? 'rebuilding',
          ...(lease ? { role: lease.role, floor: lease.floor } : {}),
        };
      }
      case 'pause': {
        const w = target.workerNamed(name);
        await w.pause({
          reason: String(body.reason ?? 'paused by an operator'),
          ...(typeof body.byPid === 'number' ? { byPid: body.byPid } : {}),
        });
        return { checkpoint: w.checkpoint };
      }
      case 'retry':
        return target.workerNamed(name).retry(decodeMessages(body));
      case 'skip':
        return target.workerNamed(name).skip(Number(body.seq));
      case 'resume': {
        const w = target.workerNamed(name);
        await w.resume();
        return { checkpoint: w.checkpoint };
      }
      case 'handover': {
        // Only the process holding the lease answers; the others stay silent.
        const w = target.saga(name);
        if (w?.lease?.role !== 'active') return NOT_HERE;
        const revision = w.lease.revision;
        if (!(await w.handover())) return NOT_HERE;
        return { host: hostname(), pid: process.pid, revision };
      }
      default:
        throw new Error(`unknown command ${command}`);
    }
  };
}
