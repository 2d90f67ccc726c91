/**
 * Rebuild a read model from the stream without downtime (blue/green). The new model is built in a
 * shadow SQLite file beside the live one, by the same engine, replaying from the stream's first
 * retained message with an ordered consumer (no acks) in large transactions, while the live model
 * keeps serving and applying. Once the shadow has caught up, the live worker is paused (it finishes
 * its batch), the shadow catches up with the head, and one SQLite transaction swaps the tables, the
 * actor snapshots and the checkpoint: a reader sees the old model or the new one, never a mix or an
 * empty one. The worker then resumes from the new checkpoint.
 *
 * A rebuild holds a lock row (one per projection). Killed at any point, it leaves the live model
 * intact; run again, it takes over the stale lock and resumes from the shadow's own checkpoint.
 */
import { existsSync, rmSync } from 'node:fs';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import Database from 'better-sqlite3';
import { defaults } from '../defaults.js';
import type { ProjectionDefinition, ProsaEvent, RawEvent } from '../define/projection.js';
import { createProjectionEngine, type ProjectionEngine } from '../engine/projectionEngine.js';
import { ProsaError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ackOf, rawEventOf } from '../nats/consumer.js';
import { listDeadLetters, removeFromDlq } from '../ops/deadLetters.js';
import { lastSeqOnSubjects } from '../ops/status.js';
import { copyActorSnapshots, ensureStateColumn, hasStateColumn } from '../store/actorState.js';
import { readCheckpoint, writeCheckpoint } from '../store/checkpoints.js';
import { openDatabase } from '../store/database.js';
import {
  markDeadLetterSkipped,
  mergeRebuiltDeadLetters,
  readDeadLetterResolution,
  unresolvedDeadLetterSeqs,
} from '../store/deadLetters.js';
import { copyGaps } from '../store/gaps.js';
import { pidAlive } from '../store/liveness.js';
import { rerunMigrations } from '../store/migrations.js';
import { readRebuildLock, releaseRebuildLock, writeRebuildLock } from '../store/rebuilds.js';
import { quoteIdent, type SqliteDatabase } from '../store/sqlite.js';
import { copyWaiting } from '../store/waiting.js';
import { type Clock, isoNow, systemClock } from '../time/clock.js';

export interface RebuildProgress {
  phase: 'replaying' | 'catching up' | 'swapping' | 'done';
  /** Events applied by this run. */
  applied: number;
  checkpoint: number;
  /** The stream's last sequence on the projection's subjects, as last seen. */
  target: number;
  eventsPerSecond: number;
  /** Estimated time to catch up, when there is a rate. */
  etaMs: number | null;
}

export interface RebuildOptions {
  definition: ProjectionDefinition<ProsaEvent, string>;
  /** The live database. */
  db: SqliteDatabase;
  /** The live database's file: the shadow is created beside it. */
  sqlitePath: string;
  js: JetStreamClient;
  jsm: JetStreamManager;
  log: Logger;
  /**
   * Messages per transaction. Each transaction writes every entity it changed once, so larger ones
   * write an entity changed many times fewer times. @default 100_000
   */
  batchSize?: number;
  /** Most message bytes per transaction, so large events keep memory bounded. @default 128 MiB */
  batchBytes?: number;
  /** Live actors while replaying. @default 100_000 */
  maxActors?: number;
  /** Whether an entity's later events wait behind its dead letter, as in the live worker. @default 'ordered' */
  deadLetters?: 'ordered' | 'unordered' | undefined;
  /** Why (logged and kept with the lock). @default 'requested' */
  reason?: string;
  onProgress?: (progress: RebuildProgress) => void;
  /** Pauses the live worker, if one runs; resolves once it has committed its batch and stopped. */
  pauseLive?: () => Promise<void>;
  /** The live worker's durable consumer: its dead letters are `dlq.<consumer>`. @default the projection's name */
  consumer?: string;
  /** Resumes the live worker after the swap (it re-reads the checkpoint). */
  resumeLive?: () => Promise<void>;
  /** @default systemClock */
  clock?: Clock;
}

export interface RebuildResult {
  /** The checkpoint the live model has after the swap. */
  checkpoint: number;
  /** Events applied by this run. */
  applied: number;
  ms: number;
  /** Whether this run took over a shadow left by an earlier, interrupted one. */
  resumed: boolean;
}

export const shadowPathOf = (sqlitePath: string, projection: string): string =>
  `${sqlitePath}.rebuild-${projection}`;

const removeDatabaseFiles = (path: string) => {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
};

/** The tables, views, indexes and triggers a projection's migrations create. */
export function schemaObjects(migrations: readonly string[]): { type: string; name: string }[] {
  const scratch = new Database(':memory:');
  try {
    for (const sql of migrations) scratch.exec(sql);
    return scratch
      .prepare(
        "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY CASE type WHEN 'view' THEN 0 WHEN 'trigger' THEN 1 ELSE 2 END",
      )
      .all() as { type: string; name: string }[];
  } finally {
    scratch.close();
  }
}

/** Rebuilds under way in this process (the lock row cannot tell two of them apart: same pid). */
const inProcess = new Set<string>();

export async function rebuildProjection(o: RebuildOptions): Promise<RebuildResult> {
  const key = `${o.sqlitePath}\u0000${o.definition.name}`;
  if (inProcess.has(key)) {
    throw new ProsaError(
      'PROSA_REBUILD_RUNNING',
      `a rebuild of ${o.definition.name} is already running in this process; wait for it to finish`,
    );
  }
  inProcess.add(key);
  try {
    return await rebuildLocked(o);
  } finally {
    inProcess.delete(key);
  }
}

async function rebuildLocked(o: RebuildOptions): Promise<RebuildResult> {
  const { definition, db, js, jsm, log } = o;
  const name = definition.name;
  const clock = o.clock ?? systemClock;
  const batchSize = o.batchSize ?? defaults.rebuild.maxMessages;
  const batchBytes = o.batchBytes ?? defaults.rebuild.maxBytes;
  const version = definition.version ?? 1;
  if (o.sqlitePath === ':memory:')
    throw new ProsaError('PROSA_SQLITE', 'a rebuild needs a database file (PROSA_DB), not :memory:');
  const shadowPath = shadowPathOf(o.sqlitePath, name);
  const reason = o.reason ?? 'requested';

  // 1. The lock: one rebuild per projection; a dead holder's lock is taken over.
  const resumed = db
    .transaction(() => {
      const held = readRebuildLock(db, name);
      if (held && held.pid !== process.pid && pidAlive(held.pid)) {
        throw new ProsaError(
          'PROSA_REBUILD_RUNNING',
          `a rebuild of ${name} is already running (pid ${held.pid}, since ${held.startedAt}); wait for it to finish, or stop that process and run this again to resume it`,
        );
      }
      writeRebuildLock(db, name, {
        pid: process.pid,
        shadowPath,
        reason,
        startedAt: isoNow(clock),
      });
      return held !== undefined;
    })
    .immediate();

  const started = performance.now();
  let shadow: SqliteDatabase | undefined;
  let paused = false;
  try {
    // 2. The shadow: resumed if an interrupted rebuild of this same version left one.
    if (existsSync(shadowPath)) {
      const probe = openDatabase(shadowPath);
      const stored = readCheckpoint(probe, name);
      probe.close();
      if (!resumed || (stored && stored.version !== version)) removeDatabaseFiles(shadowPath);
    }
    shadow = openDatabase(shadowPath);
    const engine = createProjectionEngine(definition, shadow, {
      maxActors: o.maxActors ?? defaults.rebuild.maxActors,
      stream: definition.source.stream,
      clock,
      ...(o.deadLetters ? { deadLetters: o.deadLetters } : {}),
    });
    const startCheckpoint = engine.checkpoint;
    log.info(
      { projection: name, reason, shadow: shadowPath, resumedFrom: startCheckpoint || undefined },
      'rebuild started: building beside the live model',
    );

    // 3. Replay with an ordered consumer until caught up; then pause the live worker and catch up again.
    const { stream, subjects } = definition.source;
    let target = await lastSeqOnSubjects(jsm, stream, subjects);
    let applied = 0;
    let phase: RebuildProgress['phase'] = 'replaying';
    const report = () => {
      const secs = (performance.now() - started) / 1000;
      const rate = secs > 0 ? applied / secs : 0;
      const remaining = Math.max(0, target - engine.checkpoint);
      o.onProgress?.({
        phase,
        applied,
        checkpoint: engine.checkpoint,
        target,
        eventsPerSecond: Math.round(rate),
        etaMs: rate > 0 ? Math.round((remaining / rate) * 1000) : null,
      });
    };
    const pause = async () => {
      phase = 'catching up';
      report();
      await o.pauseLive?.();
      paused = true;
      target = await lastSeqOnSubjects(jsm, stream, subjects);
    };

    if (engine.checkpoint >= target) await pause();
    if (engine.checkpoint < target) {
      const first = (await jsm.streams.info(stream)).state.first_seq;
      const from = engine.checkpoint + 1;
      const consumer = await js.consumers.get(stream, {
        ...(subjects.length === 1 ? { filter_subjects: subjects[0] as string } : {}),
        ...(from > first
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from }
          : { deliver_policy: DeliverPolicy.All }),
      });
      const messages = await consumer.consume({ max_messages: Math.min(batchSize, 10_000) });
      let buffer: RawEvent[] = [];
      let bytes = 0;
      try {
        for await (const m of messages) {
          const ack = ackOf(m);
          const pending = ack.pending;
          const event = rawEventOf(m, ack);
          buffer.push(event);
          bytes += event.data.length;
          if (buffer.length < batchSize && bytes < batchBytes && pending > 0) continue;
          const result = engine.applyBatch(buffer);
          applied += result.applied + result.deadLetters.length;
          buffer = [];
          bytes = 0;
          report();
          if (pending > 0 || engine.checkpoint < target) continue;
          if (!paused) await pause();
          if (engine.checkpoint >= target) break;
        }
      } finally {
        messages.stop();
      }
      if (buffer.length > 0) engine.applyBatch(buffer);
    }
    skipWhatWasGivenUpLive(engine, shadow, db, name, clock);
    const checkpoint = engine.checkpoint;
    engine.close();
    shadow.close();
    shadow = undefined;

    // 4. The swap: one transaction on the live database.
    phase = 'swapping';
    report();
    const firstSeq = (await jsm.streams.info(stream)).state.first_seq;
    const resolved = swap(db, shadowPath, definition, { checkpoint, version, firstSeq }, isoNow(clock));
    removeDatabaseFiles(shadowPath);
    await removeResolvedFromDlq(o, resolved);
    phase = 'done';
    report();
    const ms = Math.round(performance.now() - started);
    log.info({ projection: name, checkpoint, applied, ms }, 'rebuild swapped in: the new model is live');
    return { checkpoint, applied, ms, resumed };
  } catch (e) {
    // Leave the lock row: a rerun takes it over and resumes from the shadow.
    log.error(
      { err: e, projection: name },
      'rebuild failed; the live model is untouched (run it again to resume)',
    );
    throw e;
  } finally {
    shadow?.close();
    if (paused) await o.resumeLive?.();
  }
}

/** The schema name the shadow file is attached under during the swap. */
const SHADOW = 'prosa_shadow';

/** Replaces the projection's tables, views, snapshots and checkpoint in the live database, atomically. */
function swap(
  db: SqliteDatabase,
  shadowPath: string,
  definition: ProjectionDefinition<ProsaEvent, string>,
  at: { checkpoint: number; version: number; firstSeq: number },
  now: string,
): number[] {
  const name = definition.name;
  let resolved: number[] = [];
  const objects = schemaObjects(definition.schema.migrations);
  db.prepare(`ATTACH DATABASE ? AS ${SHADOW}`).run(shadowPath);
  try {
    db.transaction(() => {
      for (const o of objects) {
        if (o.type === 'view') db.exec(`DROP VIEW IF EXISTS main.${quoteIdent(o.name)}`);
        else if (o.type === 'trigger') db.exec(`DROP TRIGGER IF EXISTS main.${quoteIdent(o.name)}`);
        else if (o.type === 'table') db.exec(`DROP TABLE IF EXISTS main.${quoteIdent(o.name)}`);
      }
      rerunMigrations(db, name, definition.schema.migrations, now);
      for (const o of objects) {
        if (o.type !== 'table') continue;
        // The engine adds prosa_state to an entity table whose rows hold the state: so do the copies.
        if (hasStateColumn(db, o.name, SHADOW)) ensureStateColumn(db, o.name, 'main');
        db.exec(`INSERT INTO main.${quoteIdent(o.name)} SELECT * FROM ${SHADOW}.${quoteIdent(o.name)}`);
      }
      copyActorSnapshots(db, SHADOW, name);
      resolved = mergeRebuiltDeadLetters(db, SHADOW, name, at.firstSeq, now);
      copyWaiting(db, SHADOW, name);
      copyGaps(db, SHADOW, name);
      writeCheckpoint(db, name, at.checkpoint, at.version, now);
      releaseRebuildLock(db, name);
    }).immediate();
  } finally {
    db.exec(`DETACH DATABASE ${SHADOW}`);
  }
  return resolved;
}

/**
 * An operator's give-up on a live dead letter holds for the new model: one skipped or purged live
 * that the new code cannot apply either is skipped in the shadow too, so nothing is left waiting
 * behind a letter nobody can resolve any more. Runs with the live worker paused.
 */
function skipWhatWasGivenUpLive(
  engine: ProjectionEngine,
  shadow: SqliteDatabase,
  db: SqliteDatabase,
  name: string,
  clock: Clock,
): void {
  for (const seq of unresolvedDeadLetterSeqs(shadow, name)) {
    const live = readDeadLetterResolution(db, name, seq);
    if (live !== 'skipped' && live !== 'purged') continue;
    engine.skipDeadLetter(seq, () => markDeadLetterSkipped(shadow, name, seq, isoNow(clock)));
  }
}

/** Dead letters the new model applied leave the DLQ stream (best effort: their rows say so already). */
async function removeResolvedFromDlq(o: RebuildOptions, seqs: readonly number[]): Promise<void> {
  if (seqs.length === 0) return;
  o.log.info({ projection: o.definition.name, seqs }, 'dead letters the rebuilt model applied are resolved');
  try {
    const entries = await listDeadLetters(o.js, o.jsm, o.consumer ?? o.definition.name);
    await removeFromDlq(
      o.jsm,
      entries,
      seqs.map((seq) => ({ seq, applied: true })),
    );
  } catch (e) {
    o.log.warn({ err: e }, 'dead letters the rebuild resolved are still in the DLQ stream');
  }
}
