/**
 * What a worker says about itself: its state, recent events/s and live actors. Kept in memory for
 * `runtime.status()`, written to `prosa_workers` once a second for `prosa status` in another
 * terminal, and logged at info once every few seconds while busy (never once per event).
 */
import type { Logger } from '../logger.js';
import type { SqliteDatabase } from '../store/database.js';
import { createWorkerRowWriter, type WorkerState } from '../store/workers.js';
import { type Clock, isoNow } from '../time/clock.js';

export interface WorkerReporter {
  readonly state: WorkerState;
  readonly detail: string | undefined;
  /** Events per second over the last few seconds. */
  readonly rate: number;
  /** Messages the consumer said were still pending after the last batch. */
  readonly pending: number;
  /** `pending`, when known (a consumer's start), replaces the count of the last batch. */
  set(state: 'running' | 'restarting' | 'stopped' | 'paused', detail?: string, pending?: number): void;
  batch(messages: number, ms: number, pending: number, checkpoint: number): void;
  start(): void;
  stop(): void;
}

const WRITE_EVERY_MS = 1_000;
const LOG_EVERY_MS = 5_000;

export function createWorkerReporter(o: {
  db: SqliteDatabase;
  worker: string;
  kind: 'projection' | 'saga';
  log: Logger;
  clock: Clock;
  liveActors: () => number;
}): WorkerReporter {
  const writeRow = createWorkerRowWriter(o.db);
  let state: WorkerState = 'starting';
  let detail: string | undefined;
  let pending = 0;
  let checkpoint = 0;
  // Events counted per one-second bucket, over the last five.
  const buckets = new Array<number>(5).fill(0);
  let bucketAt = Math.floor(o.clock.now() / 1000);
  let sinceLog = 0;
  let lastLog = o.clock.now();
  let timer: NodeJS.Timeout | undefined;

  const roll = () => {
    const nowSec = Math.floor(o.clock.now() / 1000);
    while (bucketAt < nowSec) {
      bucketAt++;
      buckets[bucketAt % buckets.length] = 0;
      if (nowSec - bucketAt > buckets.length) bucketAt = nowSec;
    }
  };
  const rate = () => {
    roll();
    let sum = 0;
    for (const b of buckets) sum += b;
    return sum / buckets.length;
  };
  const write = () => {
    try {
      writeRow({
        worker: o.worker,
        kind: o.kind,
        state,
        pid: process.pid,
        liveActors: o.liveActors(),
        rate: rate(),
        detail: detail ?? null,
        updatedAt: isoNow(o.clock),
      });
    } catch (e) {
      o.log.debug({ err: e }, 'worker status not written');
    }
  };

  return {
    get state() {
      return state;
    },
    get detail() {
      return detail;
    },
    get rate() {
      return rate();
    },
    get pending() {
      return pending;
    },
    set(next, why, pendingNow) {
      if (pendingNow !== undefined) pending = pendingNow;
      if (next === 'running' && state !== 'running') o.log.info({ checkpoint }, 'consuming');
      state = next === 'running' && pending > 0 ? 'catching up' : next;
      detail = why;
      write();
    },
    batch(messages, _ms, pendingAfter, cp) {
      roll();
      buckets[bucketAt % buckets.length] = (buckets[bucketAt % buckets.length] ?? 0) + messages;
      pending = pendingAfter;
      checkpoint = cp;
      if (state === 'running' || state === 'catching up') state = pending > 0 ? 'catching up' : 'running';
      sinceLog += messages;
      const t = o.clock.now();
      if (t - lastLog >= LOG_EVERY_MS) {
        if (sinceLog > 0) {
          o.log.info(
            {
              rate: Math.round((sinceLog * 1000) / (t - lastLog)),
              checkpoint: cp,
              lag: pending,
              liveActors: o.liveActors(),
            },
            'progress',
          );
        }
        sinceLog = 0;
        lastLog = t;
      }
    },
    start() {
      write();
      timer = setInterval(write, WRITE_EVERY_MS);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      state = 'stopped';
      write();
    },
  };
}
