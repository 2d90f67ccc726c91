/**
 * Appending a batch of events to an aggregate, checked by the server, pipelined.
 *
 * Concurrency is checked by the SERVER, never read-then-write. The store keeps, per aggregate, the
 * pair (version, stream sequence of its last event), filled by appends and reads. An append whose
 * expectedVersion matches that pair (or is 0: "the subject must be empty") is one pipelined round
 * trip: the first event carries `Nats-Expected-Last-Subject-Sequence`. On a miss, one direct get of
 * the subject's last message learns the pair first. A rejection becomes a `VersionConflictError`
 * naming the expected and the actual version (read from the message at the sequence the server
 * reported) and drops the cached pair.
 *
 * How a batch stays unbroken and still pipelined. Every event of a batch is checked by the server,
 * so no concurrent writer can slip in between two of its events:
 *   - event 1 expects the last sequence of the aggregate's subject (the check above);
 *   - event k > 1 expects the stream's last message id to be event k-1's id
 *     (`Nats-Expected-Last-Msg-Id`). That holds only if event k-1 was stored and nothing at all was
 *     stored after it, so it needs no sequence we do not know yet and the batch goes out without
 *     waiting for acks (awaiting each publish would cost a round trip per event).
 * If another writer stores anything anywhere in the stream in between (another aggregate, a crate
 * publishing without ids, a server restart that forgets the last id), event k is refused with
 * "wrong last msg ID" and every later one with it: the store then continues from event k with the
 * subject check against event k-1's now known sequence, in another pipelined round. Each round
 * stores at least one event, so it ends. If the subject check itself fails after some events landed,
 * a writer of this aggregate got in: the rest is not stored and `PartialAppendError` says how many
 * events (from the first) were. A lost acknowledgement (timeout) after some progress is resumed
 * the same way: re-sent events carry their original `Nats-Msg-Id`, and the server's dedupe
 * (checked before expectations) answers "duplicate" with the sequence of any that had landed. The
 * window of unacknowledged publishes is bounded (`batchWindow`), which also bounds what a refused
 * round wastes. Why not the others: awaiting each publish costs one round trip per event;
 * JetStream's atomic batch publish needs nats-server 2.12 and on 2.9.10 stores the messages while
 * reporting an error; expected-last-sequence on the stream would refuse every batch that overlaps
 * another aggregate's write, with no cheap way to go on.
 *
 * Without `expectedVersion` an append is not checked against the caller's view, but the store still
 * chains it on the server (so `Prosa-Version` stays exact and a batch is never interleaved) and
 * retries with a fresh lookup when it loses a race, up to `maxRetries` times.
 */

import type { PubAck } from '@nats-io/jetstream';
import type { StoredEvent } from '../cim/envelope.js';
import { PartialAppendError, ProsaError, VersionConflictError } from '../errors.js';
import type { Clock } from '../time/clock.js';
import { version } from './read.js';
import {
  API_WRONG_LAST_MSG_ID,
  API_WRONG_LAST_SEQUENCE,
  apiCode,
  errorMessage,
  type Position,
  type StreamAccess,
} from './streamAccess.js';
import { checkAggregateId, eventHeaders, type NewEvent, prepareBatch } from './wire.js';

/** Options of one append. */
export interface AppendOptions {
  /**
   * The version the aggregate must be at: 0 = it must have no events. Omitted = no check.
   * @default undefined
   */
  expectedVersion?: number;
  /** For every event of the batch that names none. @default one fresh UUID v7 per append */
  correlationId?: string;
  /** For every event of the batch that names none. @default the event's own id */
  causationId?: string | null;
}

/** What publishing one batch from a base position came to. */
type BatchOutcome =
  | { kind: 'stored'; version: number; seq: number; duplicates: boolean }
  | { kind: 'lost-race'; cause: unknown };

/** One pipelined round: events [start, confirmed) were acknowledged; `failure` stopped it, if anything did. */
interface Round {
  confirmed: number;
  lastSeq: number;
  duplicates: boolean;
  failure: unknown;
}

/** A publish that settled: the ack, or why it failed (a value, so no rejection is ever unhandled). */
type Settled = { ok: true; ack: PubAck } | { ok: false; error: unknown };

const WRONG_LAST_SEQUENCE = /wrong last sequence: (\d+)/;
const settle = (p: Promise<PubAck>): Promise<Settled> =>
  p.then(
    (ack) => ({ ok: true, ack }),
    (error: unknown) => ({ ok: false, error }),
  );
const isTimeout = (e: unknown): boolean => e instanceof Error && e.name === 'TimeoutError';

/** Appends `events` in order and returns the aggregate's new version (see `EventStore.append`). */
export async function append<D>(
  access: StreamAccess,
  aggregateId: string,
  events: readonly NewEvent<D>[],
  options: AppendOptions & { clock?: Clock } = {},
): Promise<number> {
  checkAggregateId(aggregateId);
  const expected = options.expectedVersion;
  if (expected !== undefined && (!Number.isInteger(expected) || expected < 0)) {
    throw new RangeError(
      `append: expectedVersion must be an integer >= 0 or omitted, got ${String(expected)}`,
    );
  }
  if (!Array.isArray(events)) throw new TypeError('append: events must be an array of { eventType, data }');
  if (!access.ready) await access.whenReady('append');
  const subject = access.subjectFor(aggregateId);
  if (events.length === 0) {
    const current = await version(access, aggregateId);
    if (expected !== undefined && current !== expected) {
      throw new VersionConflictError(aggregateId, expected, current);
    }
    return current;
  }
  const envelopes = prepareBatch(aggregateId, events, options);
  for (let attempt = 0; ; attempt++) {
    const base = await basePosition(access, aggregateId, subject, expected);
    const outcome = await publishBatch(access, aggregateId, subject, envelopes, base);
    if (outcome.kind === 'stored') {
      if (outcome.duplicates) {
        // Some events were stored by an earlier append with the same ids: ask the server where we are.
        access.forget(aggregateId);
        try {
          return (await access.positionAt(outcome.seq, subject)).version;
        } catch (e) {
          throw access.wrap(e, `append to ${aggregateId}`);
        }
      }
      access.remember(aggregateId, { version: outcome.version, seq: outcome.seq });
      return outcome.version;
    }
    access.forget(aggregateId);
    if (expected === undefined && attempt < access.opts.maxRetries) continue;
    throw await conflict(access, aggregateId, subject, expected ?? base.version, outcome.cause);
  }
}

/** Where an append starts: known for version 0, from the cache when it agrees, else looked up. */
async function basePosition(
  access: StreamAccess,
  aggregateId: string,
  subject: string,
  expected: number | undefined,
): Promise<Position> {
  if (expected === 0) return { version: 0, seq: 0 };
  const cached = access.cachedPosition(aggregateId);
  if (cached !== undefined && (expected === undefined || cached.version === expected)) return cached;
  const last = await access.lastOf(subject, 'append');
  const position: Position =
    last === undefined ? { version: 0, seq: 0 } : { version: last.version, seq: last.seq };
  if (expected !== undefined && position.version !== expected) {
    access.forget(aggregateId);
    throw new VersionConflictError(aggregateId, expected, position.version);
  }
  access.remember(aggregateId, position);
  return position;
}

/** Publishes the whole batch from `base` in pipelined rounds (see the module header). */
async function publishBatch(
  access: StreamAccess,
  aggregateId: string,
  subject: string,
  envelopes: readonly StoredEvent[],
  base: Position,
): Promise<BatchOutcome> {
  const total = envelopes.length;
  const payloads = envelopes.map((e, i) => {
    e.sequence = base.version + i + 1;
    return JSON.stringify(e);
  });
  let landed = 0;
  let lastSeq = base.seq;
  let duplicates = false;
  while (landed < total) {
    const round = await publishRound(access, subject, envelopes, payloads, base.version, landed, lastSeq);
    duplicates ||= round.duplicates;
    if (round.confirmed > landed) lastSeq = round.lastSeq;
    if (round.failure === undefined) {
      landed = round.confirmed;
      break;
    }
    // The round made progress and then either something was stored elsewhere in the stream in
    // between, or an acknowledgement was lost: go on from the first unconfirmed event with the subject
    // check. Its Nats-Msg-Id makes the server answer "duplicate" (with its sequence) if it had landed.
    const resumable = apiCode(round.failure) === API_WRONG_LAST_MSG_ID || isTimeout(round.failure);
    if (resumable && round.confirmed > landed) {
      landed = round.confirmed;
      continue;
    }
    access.forget(aggregateId);
    if (round.confirmed === 0) {
      if (apiCode(round.failure) === API_WRONG_LAST_SEQUENCE)
        return { kind: 'lost-race', cause: round.failure };
      throw access.wrap(round.failure, `append to ${aggregateId}`);
    }
    const cause =
      apiCode(round.failure) === API_WRONG_LAST_SEQUENCE
        ? new ProsaError(
            'PROSA_VERSION_CONFLICT',
            `another writer appended to ${aggregateId} after event ${round.confirmed} of this batch`,
            { cause: round.failure },
          )
        : access.wrap(round.failure, `append to ${aggregateId}`);
    throw new PartialAppendError(aggregateId, round.confirmed, total, base.version + round.confirmed, {
      cause,
    });
  }
  return { kind: 'stored', version: base.version + total, seq: lastSeq, duplicates };
}

/**
 * Publishes events [start, total) with at most `batchWindow` unacknowledged: the first expects the
 * subject's last sequence to be `expectSeq`, each next one the stream's last message id to be its
 * predecessor's. Stops at the first refusal and waits for the publishes still in flight.
 */
async function publishRound(
  access: StreamAccess,
  subject: string,
  envelopes: readonly StoredEvent[],
  payloads: readonly string[],
  baseVersion: number,
  start: number,
  expectSeq: number,
): Promise<Round> {
  const total = payloads.length;
  const window = access.opts.batchWindow;
  const inFlight: Promise<Settled>[] = [];
  const timeout = access.opts.timeoutMs;
  let next = start;
  let confirmed = start;
  let lastSeq = expectSeq;
  let duplicates = false;
  let failure: unknown;
  while (confirmed < total) {
    for (; next < total && next - confirmed < window; next++) {
      const event = envelopes[next] as StoredEvent;
      const expect =
        next === start
          ? { lastSubjectSequence: expectSeq }
          : { lastMsgID: (envelopes[next - 1] as StoredEvent).event_id };
      inFlight.push(
        settle(
          access.js.publish(subject, payloads[next] as string, {
            msgID: event.event_id,
            headers: eventHeaders(event.event_type, baseVersion + next + 1),
            expect,
            timeout,
          }),
        ),
      );
    }
    const settled = await (inFlight[confirmed - start] as Promise<Settled>);
    if (!settled.ok) {
      failure = settled.error;
      break;
    }
    lastSeq = settled.ack.seq;
    duplicates ||= settled.ack.duplicate;
    confirmed++;
  }
  // The later ones of a refused round fail too (their predecessor is missing); let them finish so the
  // next round is not overtaken by stale publishes.
  if (failure !== undefined) await Promise.all(inFlight.slice(confirmed - start + 1));
  return { confirmed, lastSeq, duplicates, failure };
}

/** The conflict error for a refused first event: the actual version is read at the sequence the server reported. */
async function conflict(
  access: StreamAccess,
  aggregateId: string,
  subject: string,
  expected: number,
  cause: unknown,
): Promise<Error> {
  let actual: number | undefined;
  try {
    const reported = WRONG_LAST_SEQUENCE.exec(errorMessage(cause))?.[1];
    if (reported !== undefined) actual = (await access.positionAt(Number(reported), subject)).version;
  } catch {
    actual = undefined; // the error still names the aggregate and the expected version
  }
  return new VersionConflictError(aggregateId, expected, actual, { cause });
}
