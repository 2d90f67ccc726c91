/** End to end: the same property against a real nats-server and the real runtime, restarted between segments. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  StorageType,
} from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import {
  createRuntime,
  listDeadLetterReasons,
  listWaitingSeqs,
  type ProjectionDefinition,
  type ProsaEvent,
  type RawEvent,
  readCheckpoint,
  silentLogger,
  spawnNatsServer,
} from '../../internal.js';
import { cleanReplay, type ReplayResult } from '../replay.js';
import { compareModels } from './compareModels.js';
import { compareWithReference } from './compareWithReference.js';
import { type RunFacts, RunFailure, UsageError } from './failures.js';
import { numbered } from './numbered.js';
import { type CheckProjectionOptions, defaults, type NatsCheckOptions, runParameters } from './options.js';
import { type Model, modelOf, readTables, type TableSpec, tablesOf } from './readModels.js';
import { reportFailure } from './reportFailure.js';
import { seqList } from './scheduleInWords.js';

/** Marks the streams this check creates, so it never deletes one it did not make. */
const STREAM_MARK = 'prosa checkProjection scratch stream: deleted and recreated for every run';

interface Segment {
  /** Share of the remaining messages this segment publishes (the last takes the rest). */
  share: number;
  batchSize: number;
  maxActors: number;
}

export async function checkOverNats(
  definition: ProjectionDefinition<ProsaEvent, string>,
  o: CheckProjectionOptions<ProsaEvent>,
  nats: NatsCheckOptions,
): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'prosa-check-'));
  const server = nats.startServer ? await spawnNatsServer({ storeDir: join(root, 'jetstream') }) : undefined;
  const url = nats.url ?? (server?.url as string);
  const nc = await connect({ servers: url, name: 'prosa-checkProjection' });
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const stream = definition.source.stream;
    const info = await jsm.streams.info(stream).catch(() => undefined);
    if (info && info.config.description !== STREAM_MARK) {
      throw new UsageError(
        `checkProjection({ nats }) deletes and recreates stream ${stream} for every run, and ${url} already has one it did not create. Point it at a scratch server, or use { nats: { startServer: true } }.`,
      );
    }
    const tables = tablesOf(definition);
    const maxActors = Math.max(1, o.maxActors ?? defaults.maxActors);
    const segment: fc.Arbitrary<Segment> = fc.record({
      share: fc.double({ min: 0, max: 1, noNaN: true }),
      batchSize: fc.integer({ min: 1, max: Math.max(1, o.maxBatchSize ?? defaults.maxBatchSize) }),
      maxActors: fc.integer({ min: 1, max: maxActors }).map((n) => maxActors + 1 - n),
    });
    let runIndex = 0;
    const property = fc.asyncProperty(
      o.events,
      fc.array(segment, { minLength: 1, maxLength: 4 }),
      async (events, segments) => {
        const dir = join(root, `run-${++runIndex}`);
        try {
          const failure = await runOverNats(
            definition,
            tables,
            o,
            { jsm, js, url },
            dir,
            numbered(events),
            segments,
          );
          if (failure) throw failure;
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
    const details = await fc.check(property, runParameters(o, defaults.numRunsOverNats));
    if (details.failed) throw reportFailure(definition, o, details);
  } finally {
    await nc.close().catch(() => {});
    await server?.kill();
    rmSync(root, { recursive: true, force: true });
  }
}

async function runOverNats(
  definition: ProjectionDefinition<ProsaEvent, string>,
  tables: readonly TableSpec[],
  o: CheckProjectionOptions<ProsaEvent>,
  { jsm, js, url }: { jsm: JetStreamManager; js: JetStreamClient; url: string },
  dir: string,
  messages: RawEvent[],
  segments: readonly Segment[],
): Promise<RunFailure | undefined> {
  const stream = definition.source.stream;
  await jsm.streams.delete(stream).catch(() => false);
  await jsm.streams.add({
    name: stream,
    subjects: [...definition.source.subjects],
    storage: StorageType.Memory,
    description: STREAM_MARK,
  });
  const sqlitePath = join(dir, 'prosa.db');
  const words: string[] = [];
  const run: RunFacts = {
    messages: [],
    maxActors: Math.min(...segments.map((s) => s.maxActors)),
    trace: words,
  };
  const published: RawEvent[] = [];
  let next = 0;
  for (const [i, s] of segments.entries()) {
    const end =
      i === segments.length - 1 ? messages.length : next + Math.round((messages.length - next) * s.share);
    const runtime = createRuntime(
      {
        nats: { url },
        dataDir: dir,
        sqlite: { path: sqlitePath },
        http: { enabled: false },
        streams: {
          [stream]: { mode: 'external', subjects: [...definition.source.subjects], storage: 'memory' },
        },
        projections: [definition],
        defaults: { batch: { maxMessages: s.batchSize, maxWaitMs: 20 }, maxActors: s.maxActors },
      },
      { log: silentLogger() },
    );
    try {
      await runtime.start();
      const from = published.length;
      for (const m of messages.slice(next, end)) {
        const ack = await js.publish(m.subject, m.data);
        published.push({ subject: m.subject, seq: ack.seq, data: m.data });
      }
      await runtime.caughtUp({ timeoutMs: 30_000 });
      words.push(
        `start the runtime (batches of up to ${s.batchSize}, live actors capped at ${s.maxActors}), publish ${published.length > from ? seqList(published.slice(from).map((m) => m.seq)) : 'nothing'} while it runs, wait until it has caught up, then drain and stop it`,
      );
    } catch (error) {
      run.messages = published;
      return new RunFailure({ kind: 'threw', run, during: `segment ${i + 1} on nats-server`, error });
    } finally {
      await runtime.drain();
    }
    next = end;
  }
  run.messages = published;

  // The expectation: one clean in-memory pass over the messages with the server's sequences.
  let clean: ReplayResult;
  try {
    clean = cleanReplay(definition, published);
  } catch (error) {
    return new RunFailure({ kind: 'threw', run, during: 'the clean pass', error });
  }
  const db = new Database(sqlitePath, { readonly: true });
  try {
    const expected = modelOf(clean, tables);
    if (o.reference) {
      const differences = compareWithReference(o.reference, definition, published, expected, tables);
      if (differences.length > 0) return new RunFailure({ kind: 'reference', run, differences });
    }
    const got: Model = {
      tables: readTables(db, tables),
      deadLetters: new Map(listDeadLetterReasons(db, definition.name).map((d) => [d.seq, d.reason])),
      waiting: new Set(listWaitingSeqs(db, definition.name)),
      checkpoint: readCheckpoint(db, definition.name)?.seq ?? 0,
    };
    const differences = compareModels(expected, got);
    return differences.length > 0 ? new RunFailure({ kind: 'schedule', run, differences }) : undefined;
  } finally {
    db.close();
    clean.db.close();
  }
}
