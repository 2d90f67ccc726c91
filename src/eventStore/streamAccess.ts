/**
 * What appends and reads of one store share: the connection's JetStream handles, whether the stream
 * exists and allows direct gets, the cache of aggregates' positions, the lookup of a subject's last
 * message, and the translation of nats.js failures into ProsaErrors that say what to do.
 */

import {
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  StorageType,
  type StoredMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ProsaError } from '../errors.js';
import { aggregateSubject, storeSubjects, VERSION_HEADER } from './wire.js';

/** The store's options once defaults are applied and checked. */
export interface StoreTuning {
  readonly batchWindow: number;
  readonly maxRetries: number;
  readonly versionCacheSize: number;
  readonly directReadLimit: number;
  readonly readChunk: number;
  readonly clockSkewMs: number;
  readonly timeoutMs: number;
}

/** An aggregate's version and the stream sequence of its last event (0, 0 when it has none). */
export interface Position {
  version: number;
  seq: number;
}

/** The subject's last message and the position it gives. */
export interface LastMessage extends Position {
  msg: StoredMsg;
}

export const API_WRONG_LAST_MSG_ID = 10070;
export const API_WRONG_LAST_SEQUENCE = 10071;
const API_STREAM_NOT_FOUND = 10059;
const API_JETSTREAM_NOT_ENABLED = 10039;

export class StreamAccess {
  readonly js: JetStreamClient;
  /** Insertion order = least recently written first. */
  private readonly positions = new Map<string, Position>();
  private jsmPromise: Promise<JetStreamManager> | undefined;
  private jsmValue: JetStreamManager | undefined;
  private readyPromise: Promise<void> | undefined;
  private readyValue = false;
  /** Whether the stream allows direct gets (learned once from its config). */
  private directValue = false;

  constructor(
    readonly nc: NatsConnection,
    readonly stream: string,
    readonly subjectPrefix: string,
    readonly opts: StoreTuning,
  ) {
    this.js = jetstream(nc, { timeout: opts.timeoutMs });
  }

  /** Whether the stream was found; until then call `whenReady` first. */
  get ready(): boolean {
    return this.readyValue;
  }

  /** Whether the stream allows direct gets; known once ready. */
  get direct(): boolean {
    return this.directValue;
  }

  /** The JetStream manager; set once ready. */
  get jsm(): JetStreamManager {
    return this.jsmValue as JetStreamManager;
  }

  subjectFor(aggregateId: string): string {
    return aggregateSubject(this.subjectPrefix, aggregateId);
  }

  async ensureStream(config: Partial<StreamConfig>): Promise<void> {
    this.assertOpen('ensureStream');
    const jsm = await this.manager();
    try {
      await jsm.streams.info(this.stream);
      return;
    } catch (e) {
      if (apiCode(e) !== API_STREAM_NOT_FOUND) throw this.wrap(e, 'ensureStream');
    }
    try {
      await jsm.streams.add({
        name: this.stream,
        subjects: [storeSubjects(this.subjectPrefix)],
        storage: StorageType.File,
        allow_direct: true,
        ...config,
      });
    } catch (e) {
      throw this.wrap(e, 'ensureStream');
    } finally {
      // Learn allow_direct again on the next call.
      this.readyValue = false;
      this.readyPromise = undefined;
    }
  }

  /** Checks once that the stream exists and learns whether it allows direct gets. */
  whenReady(what: string): Promise<void> {
    this.assertOpen(what);
    this.readyPromise ??= (async () => {
      const jsm = await this.manager();
      try {
        const info = await jsm.streams.info(this.stream);
        this.directValue = info.config.allow_direct === true;
        this.readyValue = true;
      } catch (e) {
        this.readyPromise = undefined;
        throw this.wrap(e, what);
      }
    })();
    return this.readyPromise;
  }

  // ---- the positions cache ----

  cachedPosition(aggregateId: string): Position | undefined {
    return this.positions.get(aggregateId);
  }

  remember(aggregateId: string, position: Position): void {
    const positions = this.positions;
    positions.delete(aggregateId);
    positions.set(aggregateId, { version: position.version, seq: position.seq });
    if (positions.size > this.opts.versionCacheSize) {
      const oldest = positions.keys().next();
      if (!oldest.done) positions.delete(oldest.value);
    }
  }

  forget(aggregateId: string): void {
    this.positions.delete(aggregateId);
  }

  // ---- lookups ----

  /** The subject's last message and the version it carries; undefined when the subject has none. */
  async lastOf(subject: string, what: string): Promise<LastMessage | undefined> {
    let msg: StoredMsg | null;
    try {
      const jsm = this.jsm;
      msg = this.directValue
        ? await jsm.direct.getMessage(this.stream, { last_by_subj: subject })
        : await jsm.streams.getMessage(this.stream, { last_by_subj: subject });
    } catch (e) {
      throw this.wrap(e, what);
    }
    if (msg === null) return undefined;
    return { version: await this.versionOf(msg, subject), seq: msg.seq, msg };
  }

  /** The aggregate's position at stream sequence `seq` (0 = before its first event). */
  async positionAt(seq: number, subject: string): Promise<Position> {
    if (seq === 0) return { version: 0, seq: 0 };
    const jsm = this.jsm;
    const msg = this.directValue
      ? await jsm.direct.getMessage(this.stream, { seq })
      : await jsm.streams.getMessage(this.stream, { seq });
    if (msg === null)
      throw new ProsaError('PROSA_STREAM_MISSING', `stream ${this.stream} has no message ${seq}`);
    return { version: await this.versionOf(msg, subject), seq };
  }

  /** The version a message carries; for a message without the header, the subject's message count. */
  private async versionOf(msg: StoredMsg, subject: string): Promise<number> {
    const v = Number(msg.header?.get(VERSION_HEADER) || Number.NaN);
    if (Number.isInteger(v) && v > 0) return v;
    // Written by something other than prosa: count the subject's messages up to here (exact unless
    // limits dropped some of them).
    const info = await this.jsm.streams.info(this.stream, { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  }

  // ---- connection and errors ----

  private manager(): Promise<JetStreamManager> {
    this.jsmPromise ??= jetstreamManager(this.nc, { checkAPI: false, timeout: this.opts.timeoutMs }).then(
      (jsm) => {
        this.jsmValue = jsm;
        return jsm;
      },
    );
    return this.jsmPromise;
  }

  private assertOpen(what: string): void {
    if (this.nc.isClosed()) {
      throw new ProsaError(
        'PROSA_NATS_UNREACHABLE',
        `${what} on stream ${this.stream}: the NATS connection is closed; give createEventStore an open connection`,
      );
    }
  }

  /** Turns a nats.js failure into a ProsaError that says what to do. */
  wrap(e: unknown, what: string): Error {
    if (e instanceof ProsaError) return e;
    const name = e instanceof Error ? e.name : '';
    const code = apiCode(e);
    const where = `${what} on stream ${this.stream}`;
    if (name === 'ClosedConnectionError' || this.nc.isClosed()) {
      return new ProsaError(
        'PROSA_NATS_UNREACHABLE',
        `${where}: the NATS connection is closed; give createEventStore an open connection`,
        { cause: e },
      );
    }
    if (code === API_STREAM_NOT_FOUND || name === 'StreamNotFoundError') {
      return new ProsaError(
        'PROSA_STREAM_MISSING',
        `${where}: the stream does not exist; create it with subjects ['${storeSubjects(this.subjectPrefix)}'] (store.ensureStream() does)`,
        { cause: e },
      );
    }
    if (name === 'JetStreamNotEnabled') {
      // The stream was found at start, so no responder means no stream captures the subject.
      return this.readyValue
        ? new ProsaError(
            'PROSA_STREAM_MISSING',
            `${where}: no stream captures the subject; stream ${this.stream} must have subject '${storeSubjects(this.subjectPrefix)}'`,
            { cause: e },
          )
        : new ProsaError(
            'PROSA_JETSTREAM_DISABLED',
            `${where}: the server has no JetStream; start nats-server with -js`,
            { cause: e },
          );
    }
    if (code === API_JETSTREAM_NOT_ENABLED) {
      return new ProsaError(
        'PROSA_JETSTREAM_DISABLED',
        `${where}: JetStream is not enabled for this account`,
        {
          cause: e,
        },
      );
    }
    if (name === 'TimeoutError') {
      return new ProsaError('PROSA_TIMEOUT', `${where}: no answer within ${this.opts.timeoutMs} ms`, {
        cause: e,
      });
    }
    return e instanceof Error ? e : new Error(String(e));
  }
}

/** The JetStream API error code of a failure, if it has one. */
export function apiCode(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null || !('code' in e)) return undefined;
  const code = (e as { code: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
