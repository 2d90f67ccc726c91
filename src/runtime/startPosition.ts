/**
 * Where a worker's durable consumer starts: just after the checkpoint, or, when the stream's limits
 * dropped messages the worker never applied, at the stream's first message. Such a gap is recorded
 * (`prosa_gaps`) and logged; with `onGap: 'stop'` the worker stops at it instead.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { WorkerOptions } from '../config/config.js';
import type { Logger } from '../logger.js';
import type { SqliteDatabase } from '../store/database.js';
import { recordGap } from '../store/gaps.js';
import { type Clock, isoNow } from '../time/clock.js';

/** The worker stops at a gap as configured (`onGap: 'stop'`). */
export class GapStop extends Error {
  constructor(from: number, to: number) {
    super(`gap: messages ${from}..${to} were dropped by the stream before they were applied (onGap: stop)`);
  }
}

export interface StartPositionOptions {
  db: SqliteDatabase;
  jsm: JetStreamManager;
  worker: string;
  stream: string;
  onGap: WorkerOptions['onGap'];
  /** The worker's checkpoint, read once the stream's first sequence is known. */
  checkpoint: () => number;
  log: Logger;
  clock: Clock;
}

/** The sequence to start at; throws GapStop past a gap when `onGap` is stop. */
export async function startPosition(o: StartPositionOptions): Promise<number> {
  const first = (await o.jsm.streams.info(o.stream)).state.first_seq;
  const checkpoint = o.checkpoint();
  if (checkpoint > 0 && checkpoint + 1 < first) {
    recordGap(o.db, o.worker, { from: checkpoint + 1, to: first - 1 }, isoNow(o.clock));
    o.log.error(
      { checkpoint, streamFirstSeq: first, missed: first - checkpoint - 1 },
      `GAP: stream ${o.stream} no longer holds messages ${checkpoint + 1}..${first - 1} (its limits dropped them before they were applied); ${
        o.onGap === 'stop' ? 'stopping as configured (onGap: stop)' : `continuing from ${first}`
      }`,
    );
    if (o.onGap === 'stop') throw new GapStop(checkpoint + 1, first - 1);
  }
  return Math.max(checkpoint + 1, first);
}
