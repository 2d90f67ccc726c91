/**
 * A durable pull consumer that hands messages to a synchronous batch handler, in stream order, and
 * acks after the handler has committed. One in-order worker per consumer, so the consumer uses
 * AckPolicy.All and acks only the last message of each batch: one ack per batch instead of one per
 * message (see docs/operating.md#what-prosa-relies-on-in-nats).
 *
 * SQLite is the truth for positions (docs/architecture.md#sqlite-is-the-truth-for-positions): at
 * every (re)start the durable is recreated at `startSeq()` (the checkpoint + 1), whatever the
 * server remembers. Batches flush on size, when the consumer is caught up (`info.pending === 0`),
 * or after `maxWaitMs`. `max_ack_pending` is set explicitly (2.9.10's default of 1,000 would starve
 * larger batches) and `ack_wait` well above a batch's time, so nothing is redelivered while it is
 * being worked on.
 */
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { RawEvent } from '../define/projection.js';
import type { Logger } from '../logger.js';

export interface BatchOptions {
  /** @default 10_000 */
  maxMessages: number;
  /** Most message bytes in a batch (large events fill a batch before its count does). @default 64 MiB */
  maxBytes: number;
  /** @default 500 */
  maxWaitMs: number;
}

/** What the handler did with a batch. */
export interface BatchDisposition {
  /** Every message up to this stream sequence is done and may be acked. */
  ackThrough: number;
  /** Stop consuming after this batch (e.g. `onError: 'stop'`, or a pause). */
  stop?: boolean;
}

export interface StreamConsumerOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  durable: string;
  /** A single subject filters on the server; otherwise the handler filters. */
  filterSubject?: string;
  batch: BatchOptions;
  ackWaitMs: number;
  maxAckPending: number;
  /** Where to start when the durable is (re)created: the checkpoint + 1. Called at every (re)start. */
  startSeq: () => Promise<number> | number;
  /**
   * Applies and commits a batch, synchronously; `pending` is what the server still holds for the
   * consumer after it. Throwing makes the consumer restart from `startSeq()`.
   */
  onBatch: (messages: readonly RawEvent[], pending: number) => BatchDisposition;
  log: Logger;
  /**
   * Told about each (re)start and each failure, for status; a (re)start tells what the server
   * holds for the new durable (a count from before it would be stale).
   */
  onState?: (state: 'running' | 'restarting' | 'stopped', detail?: string, pending?: number) => void;
}

export interface StreamConsumer {
  /** Starts consuming; resolves once the first pull is under way. */
  start(): Promise<void>;
  /** Finishes the batch at hand (commit, ack) and stops. */
  stop(): Promise<void>;
  /** Resolves when the consumer has stopped for good. */
  readonly done: Promise<void>;
}

/** What prosa reads of a JetStream ack subject; one object, reused (see `readAckSubject`). */
interface AckNumbers {
  stream: number;
  delivery: number;
  pending: number;
}
const ackNumbers: AckNumbers = { stream: 0, delivery: 0, pending: 0 };
const dots = new Int32Array(16);

/**
 * Reads the stream sequence, delivery sequence and pending count from a JetStream ack subject,
 * `$JS.ACK.<stream>.<consumer>.<count>.<sseq>.<dseq>.<ts>.<pending>` or the form with a domain and
 * account hash before the stream (and a token after). It does what `JsMsg.info` does without the 11
 * strings and the object it allocates per message, a cost every consumed message would pay.
 */
export function readAckSubject(reply: string): Readonly<AckNumbers> {
  let n = 0;
  for (let i = reply.indexOf('.'); i >= 0 && n < dots.length; i = reply.indexOf('.', i + 1)) dots[n++] = i;
  // 9 tokens (8 dots): the numbers are tokens 4-8; 11 or more: tokens 6-10.
  const first = n === 8 ? 4 : n >= 10 ? 6 : -1;
  if (first < 0 || !reply.startsWith('$JS.ACK.'))
    throw new Error(`not a JetStream ack subject: ${JSON.stringify(reply)}`);
  ackNumbers.stream = digits(reply, dots[first] as number, dots[first + 1] as number);
  ackNumbers.delivery = digits(reply, dots[first + 1] as number, dots[first + 2] as number);
  const end = first + 4 < n ? (dots[first + 4] as number) : reply.length;
  ackNumbers.pending = digits(reply, dots[first + 3] as number, end);
  return ackNumbers;
}

/**
 * The delivery numbers of a message (one object, reused: read them before the next call).
 * `JsMsg.reply` is not in @nats-io/jetstream's types, though every JsMsg has it (JsMsgImpl); should a
 * version drop it, `info` gives the same numbers.
 */
export function ackOf(msg: JsMsg): Readonly<AckNumbers> {
  const reply = (msg as { reply?: unknown }).reply;
  if (typeof reply === 'string') return readAckSubject(reply);
  const info = msg.info;
  ackNumbers.stream = info.streamSequence;
  ackNumbers.delivery = info.deliverySequence;
  ackNumbers.pending = info.pending;
  return ackNumbers;
}

/** The decimal number between two dots, without a substring. */
function digits(s: string, dotBefore: number, end: number): number {
  let v = 0;
  for (let i = dotBefore + 1; i < end; i++) v = v * 10 + (s.charCodeAt(i) - 48);
  return v;
}

/**
 * What a batch keeps of a message until it is applied: only the subject, sequence and body. Holding
 * the JsMsgs, with their decoded reply subjects and delivery infos, would keep them alive past
 * young-generation collections and make the garbage collector copy and promote them.
 */
export function rawEventOf(msg: JsMsg, ack: Readonly<AckNumbers>): RawEvent {
  return { subject: internSubject(msg.subject), seq: ack.stream, data: msg.data };
}

/** One string per subject: a batch of 10,000 then holds a handful of subject strings, not 10,000. */
const subjects = new Map<string, string>();
function internSubject(subject: string): string {
  const known = subjects.get(subject);
  if (known !== undefined) return known;
  if (subjects.size < 10_000) subjects.set(subject, subject);
  return subject;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Deletes the durable and creates it again at the checkpoint + 1 (SQLite is the truth for
 * positions); resolves to the number of messages it has to deliver.
 */
async function recreateDurable(options: StreamConsumerOptions): Promise<number> {
  const { jsm, stream, durable, log } = options;
  const startSeq = await options.startSeq();
  try {
    await jsm.consumers.delete(stream, durable);
  } catch {
    // absent: nothing to delete
  }
  const info = await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.All,
    ...(startSeq <= 1
      ? { deliver_policy: DeliverPolicy.All }
      : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq }),
    ack_wait: nanos(options.ackWaitMs),
    max_ack_pending: options.maxAckPending,
    max_deliver: -1,
    ...(options.filterSubject ? { filter_subject: options.filterSubject } : {}),
  });
  log.debug({ stream, durable, startSeq }, 'durable consumer created at checkpoint + 1');
  return info.num_pending;
}

export function createStreamConsumer(options: StreamConsumerOptions): StreamConsumer {
  const { js, stream, durable, batch, log } = options;
  let stopping = false;
  let messages: ConsumerMessages | undefined;
  // A batch keeps what the engines read of each message (rawEventOf) and the last message, to ack.
  let buffer: RawEvent[] = [];
  let bufferBytes = 0;
  let last: JsMsg | undefined;
  let lastPending = 0;
  /** Each consume() is a session, on a durable created for it: its deliveries count from 1. */
  let sessions = 0;
  let lastDelivery = 0;
  let timer: NodeJS.Timeout | undefined;
  let failure: unknown;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  let firstStart: { resolve: () => void; reject: (e: unknown) => void } | undefined;

  const flush = (): void => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (buffer.length === 0 || failure !== undefined) return;
    const msgs = buffer;
    const lastMsg = last as JsMsg;
    const lastSeq = (msgs[msgs.length - 1] as RawEvent).seq;
    buffer = [];
    bufferBytes = 0;
    last = undefined;
    try {
      const disposition = options.onBatch(msgs, lastPending);
      // AckPolicy.All: acking the last message acks everything before it. A batch that stopped
      // short is not acked at all: the next start recreates the durable at the checkpoint + 1.
      if (lastSeq <= disposition.ackThrough) lastMsg.ack();
      if (disposition.stop) {
        stopping = true;
        messages?.stop();
      }
    } catch (e) {
      // Not acked: restart from the checkpoint. (A throwing consume() callback would stop the
      // consumer silently, so the error is carried to the loop instead.)
      restart(e instanceof Error ? e : new Error(String(e)));
    }
  };

  /** Stops this consume; the loop recreates the durable at the checkpoint + 1. */
  const restart = (why: Error): void => {
    failure = why;
    messages?.stop(why);
  };

  const onMessage = (msg: JsMsg, session: number): void => {
    if (failure !== undefined || stopping || session !== sessions) return;
    // consume() rides out a reconnect by itself, but deliveries in flight during it are lost and
    // the server comes back to them only after ack_wait, after later ones were applied and the
    // checkpoint moved past them. The consumer's delivery sequence has no holes otherwise.
    const ack = ackOf(msg);
    const delivery = ack.delivery;
    if (delivery !== lastDelivery + 1) {
      restart(
        new Error(
          `deliveries ${lastDelivery + 1}-${delivery - 1} of ${durable} never arrived (a reconnect?)`,
        ),
      );
      return;
    }
    lastDelivery = delivery;
    const event = rawEventOf(msg, ack);
    buffer.push(event);
    bufferBytes += event.data.length;
    last = msg;
    lastPending = ack.pending;
    if (buffer.length >= batch.maxMessages || bufferBytes >= batch.maxBytes || ack.pending === 0) flush();
    else timer ??= setTimeout(flush, batch.maxWaitMs);
  };

  async function loop(): Promise<void> {
    let backoff = 250;
    while (!stopping) {
      failure = undefined;
      buffer = [];
      bufferBytes = 0;
      try {
        const pending = await recreateDurable(options);
        const consumer = await js.consumers.get(stream, durable);
        const session = ++sessions;
        lastDelivery = 0;
        messages = await consumer.consume({
          max_messages: Math.min(batch.maxMessages, options.maxAckPending),
          callback: (msg) => onMessage(msg, session),
          abort_on_missing_resource: true,
        });
        if (stopping) messages.stop();
        options.onState?.('running', undefined, pending);
        firstStart?.resolve();
        firstStart = undefined;
        backoff = 250;
        const closedWith = await messages.closed();
        if (timer) clearTimeout(timer);
        timer = undefined;
        if (stopping) break;
        const why = failure ?? closedWith;
        log.warn(
          { err: why, stream, durable },
          'consumer stopped unexpectedly; restarting from the checkpoint',
        );
        options.onState?.('restarting', String(why instanceof Error ? why.message : why));
      } catch (e) {
        if (firstStart) {
          firstStart.reject(e);
          firstStart = undefined;
          break;
        }
        if (stopping) break;
        log.warn({ err: e, stream, durable, retryInMs: backoff }, 'consumer could not start; retrying');
        options.onState?.('restarting', (e as Error).message);
      }
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 10_000);
    }
    options.onState?.('stopped');
    resolveDone();
  }

  return {
    start() {
      return new Promise<void>((resolve, reject) => {
        firstStart = { resolve, reject };
        void loop();
      });
    },
    async stop() {
      if (stopping) return done;
      flush();
      stopping = true;
      messages?.stop();
      return done;
    },
    done,
  };
}
