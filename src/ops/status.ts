/**
 * Status of every projection and saga, from what is at hand: the live worker when it runs in this
 * process, otherwise SQLite (checkpoints, what the worker last wrote about itself, dead letters,
 * gaps) and the stream (its last sequence). So `prosa status` works while the worker runs, from
 * another terminal, and when it is down. It also says how big the database file is.
 */

import { hostname } from 'node:os';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { ResolvedConfig } from '../config/config.js';
import { subjectCovers } from '../define/subjects.js';
import type { LeaseStore } from '../nats/leaseStore.js';
import { readCheckpoint } from '../store/checkpoints.js';
import type { SqliteDatabase } from '../store/database.js';
import { type DatabaseSize, readDatabaseSize } from '../store/databaseSize.js';
import { createUnresolvedCounter } from '../store/deadLetters.js';
import { createGapLister } from '../store/gaps.js';
import { pidAlive } from '../store/liveness.js';
import { createUnpublishedCounter } from '../store/outbox.js';
import { createInstanceCounter } from '../store/sagaInstances.js';
import { createNextTimeoutReader } from '../store/timers.js';
import { createWaitingCounter } from '../store/waiting.js';
import { createWorkerRowReader, type WorkerState } from '../store/workers.js';
import { type Clock, systemClock } from '../time/clock.js';

export type { DatabaseSize } from '../store/databaseSize.js';

export interface WorkerStatus {
  name: string;
  kind: 'projection' | 'saga';
  stream: string;
  consumer: string;
  /** Last applied stream sequence. */
  checkpoint: number;
  /** Last sequence in the stream on the worker's subjects (null when NATS could not be asked). */
  streamLastSeq: number | null;
  /** Messages on its subjects not applied yet (null when unknown). */
  lag: number | null;
  deadLettered: number;
  /** Events that wait behind a dead letter of one of their entities. */
  waiting: number;
  liveActors: number;
  state: WorkerState | 'never run';
  /** Events per second over the last few seconds. */
  eventsPerSecond: number;
  detail?: string;
  gaps: { from: number; to: number }[];
  /** Sagas only. */
  activeInstances?: number;
  outboxPending?: number;
  nextTimeoutAt?: string | null;
  /** Sagas only: who runs its side effects (see LeaseStatus). */
  lease?: LeaseStatus;
}

/** Which process is a saga's active one (it dispatches and fires timers), and this one's role. */
export interface LeaseStatus {
  /** The process holding the lease, null when none holds it (released, lapsed, never taken, unknown). */
  active: { host: string; pid: number } | null;
  /** This process's role: the one whose SQLite file this is; null when its worker does not run. */
  role: 'active' | 'standby' | null;
  /** Takeovers by this process since it started (known only inside it). */
  takeovers?: number;
}

export interface RuntimeStatus {
  projections: WorkerStatus[];
  sagas: WorkerStatus[];
  /** The SQLite file's size, its WAL's and its pages; set by `collectStatus`. */
  database?: DatabaseSize;
}

/** What a worker in this process knows that SQLite may not have yet. */
export interface LiveWorkerInfo {
  checkpoint: number;
  liveActors: number;
  state: WorkerState;
  eventsPerSecond: number;
  detail?: string;
  lease?: LeaseStatus;
}

const STALE_MS = 5_000;

/** The last sequence of a stream on some subjects: the stream's last when they cover it. */
export async function lastSeqOnSubjects(
  jsm: JetStreamManager,
  stream: string,
  subjects: readonly string[],
): Promise<number> {
  const info = await jsm.streams.info(stream);
  const streamSubjects = info.config.subjects ?? [];
  if (streamSubjects.every((s) => subjects.some((p) => subjectCovers(p, s)))) return info.state.last_seq;
  let last = 0;
  for (const subject of subjects) {
    try {
      const m = await jsm.streams.getMessage(stream, { last_by_subj: subject });
      if (m && m.seq > last) last = m.seq;
    } catch {
      // no message on that subject
    }
  }
  return last;
}

/** A saga's lease as another terminal sees it: the holder, and whether it is the process of this SQLite file. */
async function readLease(
  leases: LeaseStore | undefined,
  saga: string,
  runningPid: number | undefined,
): Promise<LeaseStatus | undefined> {
  if (!leases) return undefined;
  try {
    const entry = await leases.read(saga);
    const v = entry?.value;
    const held = v && !v.released && v.expiresAt > Date.now() ? v.holder : undefined;
    const here = held !== undefined && held.host === hostname() && held.pid === runningPid;
    return {
      active: held ? { host: held.host, pid: held.pid } : null,
      role: runningPid === undefined ? null : here ? 'active' : 'standby',
    };
  } catch {
    return undefined;
  }
}

export async function collectStatus(o: {
  config: ResolvedConfig;
  db: SqliteDatabase | undefined;
  jsm: JetStreamManager | undefined;
  live?: ReadonlyMap<string, LiveWorkerInfo>;
  /** @default systemClock */
  clock?: Clock;
  /** Where saga leases are read when no live worker says (another terminal). @default none */
  leases?: LeaseStore;
}): Promise<RuntimeStatus> {
  const clock = o.clock ?? systemClock;
  const { db } = o;
  const q = db && {
    worker: createWorkerRowReader(db),
    dead: createUnresolvedCounter(db),
    waiting: createWaitingCounter(db),
    gaps: createGapLister(db),
    instances: createInstanceCounter(db),
    outbox: createUnpublishedCounter(db),
    nextTimeout: createNextTimeoutReader(db),
  };
  const one = async (
    def: { name: string; source?: { stream: string; subjects: readonly string[] } },
    kind: 'projection' | 'saga',
  ) => {
    const options = o.config.workers[def.name];
    const stream = def.source?.stream ?? '';
    const live = o.live?.get(def.name);
    const checkpoint = live?.checkpoint ?? (db && readCheckpoint(db, def.name)?.seq) ?? 0;
    const row = q?.worker(def.name);
    const fresh =
      row !== undefined && clock.now() - Date.parse(row.updatedAt) < STALE_MS && pidAlive(row.pid);
    let streamLastSeq: number | null = null;
    if (o.jsm && stream) {
      try {
        streamLastSeq = await lastSeqOnSubjects(o.jsm, stream, def.source?.subjects ?? ['>']);
      } catch {
        streamLastSeq = null;
      }
    }
    const status: WorkerStatus = {
      name: def.name,
      kind,
      stream,
      consumer: options?.consumer ?? def.name,
      checkpoint,
      streamLastSeq,
      lag: streamLastSeq === null ? null : Math.max(0, streamLastSeq - checkpoint),
      deadLettered: q?.dead(def.name) ?? 0,
      waiting: q?.waiting(def.name) ?? 0,
      liveActors: live?.liveActors ?? (fresh ? (row?.liveActors ?? 0) : 0),
      state: live?.state ?? (fresh && row ? row.state : row || checkpoint > 0 ? 'stopped' : 'never run'),
      eventsPerSecond: Math.round(live?.eventsPerSecond ?? (fresh ? (row?.rate ?? 0) : 0)),
      gaps: q?.gaps(def.name) ?? [],
    };
    if (kind === 'saga') {
      status.activeInstances = q?.instances(def.name) ?? 0;
      status.outboxPending = q?.outbox(def.name) ?? 0;
      const next = q?.nextTimeout(def.name);
      status.nextTimeoutAt = next ? new Date(next).toISOString() : null;
      const lease =
        live?.lease ?? (await readLease(o.leases, def.name, fresh ? (row?.pid ?? undefined) : undefined));
      if (lease) status.lease = lease;
    }
    const detail = live?.detail ?? (fresh ? row?.detail : undefined);
    if (detail) status.detail = detail;
    return status;
  };
  return {
    projections: await Promise.all(o.config.projections.map((p) => one(p, 'projection'))),
    sagas: await Promise.all(o.config.sagas.map((s) => one(s, 'saga'))),
    database: readDatabaseSize(o.config.sqlitePath, db),
  };
}
