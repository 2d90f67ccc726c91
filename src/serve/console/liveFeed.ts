/**
 * The console's live view: while at least one page listens (server-sent events), status is read
 * every `refreshMs` and sent to every listener with the lag history of the last minutes (for the
 * chart) and the rebuilds under way. Nobody listening, nothing is read.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../../logger.js';
import type { RuntimeStatus } from '../../ops/status.js';
import type { RebuildEntry } from './rebuildTracker.js';

/** One refresh: when (epoch ms) and each worker's lag and rate. */
export interface Sample {
  t: number;
  lag: Record<string, number | null>;
  rate: Record<string, number>;
}

export interface LiveFeedOptions {
  status: () => Promise<RuntimeStatus>;
  rebuilds: () => RebuildEntry[];
  refreshMs: number;
  historySamples: number;
  now: () => number;
  log: Logger;
}

export function createLiveFeed(o: LiveFeedOptions) {
  const listeners = new Set<ServerResponse>();
  const history: Sample[] = [];
  let timer: NodeJS.Timeout | undefined;
  let ticking = false;

  const send = (res: ServerResponse, event: string, data: unknown) => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };

  const tick = async () => {
    if (ticking) return; // a slow status() must not pile up reads
    ticking = true;
    try {
      const status = await o.status();
      const sample: Sample = { t: o.now(), lag: {}, rate: {} };
      for (const w of [...status.projections, ...status.sagas]) {
        sample.lag[w.name] = w.lag;
        sample.rate[w.name] = w.eventsPerSecond;
      }
      history.push(sample);
      if (history.length > o.historySamples) history.splice(0, history.length - o.historySamples);
      const data = { status, history, rebuilds: o.rebuilds() };
      for (const res of listeners) send(res, 'status', data);
    } catch (e) {
      o.log.warn({ err: e }, 'console: status could not be read');
      for (const res of listeners) send(res, 'failure', { message: (e as Error).message });
    } finally {
      ticking = false;
    }
  };

  const stopIfIdle = () => {
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  return {
    /** Keeps `res` open as an event stream until the page goes away. */
    listen(res: ServerResponse): void {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write(`retry: ${o.refreshMs}\n\n`);
      listeners.add(res);
      res.on('close', () => {
        listeners.delete(res);
        stopIfIdle();
      });
      if (!timer) {
        timer = setInterval(() => void tick(), o.refreshMs);
        timer.unref();
      }
      void tick();
    },
    /** Ends every event stream (the server is closing). */
    close(): void {
      for (const res of listeners) res.end();
      listeners.clear();
      stopIfIdle();
    },
  };
}

export type LiveFeed = ReturnType<typeof createLiveFeed>;
