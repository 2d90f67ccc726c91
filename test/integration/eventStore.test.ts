/**
 * The event store (docs/wire-format.md#event-store-appends) on a real nats-server: the seed's
 * 18-test JetStream suite (seeds/001), ported, plus what the seed got wrong (leaked consumers,
 * interleavable batches). One server per file, one random stream per file (one more for the tests
 * that need their own).
 */
import { createServer } from 'node:net';
import { type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, nuid } from '@nats-io/transport-node';
import { v4 as uuidv4, v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUuid, makeEnvelope, parseTimestamp, type StoredEvent } from '../../src/cim/envelope.js';
import { ConfigError, PartialAppendError, ProsaError, VersionConflictError } from '../../src/errors.js';
import {
  createEventStore,
  EVENT_TYPE_HEADER,
  type EventStore,
  type EventStoreOptions,
  type NewEvent,
  VERSION_HEADER,
} from '../../src/eventStore/eventStore.js';
import { startNatsServer, type TestNatsServer } from '../support/natsServer.js';

let server: TestNatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
const extraConnections: NatsConnection[] = [];
const STREAM = `ES_${nuid.next()}`;
const PREFIX = `es_${nuid.next().toLowerCase()}`;

const connectNats = async (): Promise<NatsConnection> => {
  const c = await connect({ servers: server.url, noAsyncTraces: true });
  extraConnections.push(c);
  return c;
};
const newStore = (options: Partial<EventStoreOptions> = {}): EventStore =>
  createEventStore({ connection: nc, stream: STREAM, subjectPrefix: PREFIX, ...options });
const newAggregate = (): string => uuidv7();
const consumerCount = async (stream = STREAM): Promise<number> =>
  (await jsm.streams.info(stream)).state.consumer_count;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A CIM-shaped domain event: `ResourceUpdated` with the domain ids inside `data`. */
function resourceUpdated(n: number, domain: { correlationId?: string } = {}): NewEvent {
  return {
    eventType: 'ResourceUpdated',
    data: {
      ResourceUpdated: {
        event_id: uuidv7(),
        correlation_id: domain.correlationId ?? uuidv7(),
        causation_id: null,
        timestamp: new Date().toISOString(),
        resource_id: `host-${n}`,
        updates: { hostname: `host-${n}.example`, capabilities: null, metadata: null },
      },
    },
  };
}
const updates = (count: number, from = 1): NewEvent[] =>
  Array.from({ length: count }, (_, i) => resourceUpdated(from + i));
const hostOf = (e: StoredEvent): string =>
  (e.data as { ResourceUpdated: { resource_id: string } }).ResourceUpdated.resource_id;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url, noAsyncTraces: true });
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: STREAM, subjects: [`${PREFIX}.>`], allow_direct: true });
});

afterAll(async () => {
  for (const c of extraConnections) await c.close().catch(() => undefined);
  await nc?.close();
  await server?.cleanup();
});

describe('event store', () => {
  describe('when connected to a server with the stream', () => {
    it('answers for an unknown aggregate with version 0', async () => {
      expect(await newStore().version(newAggregate())).toBe(0);
    });
  });

  describe('when an aggregate has no events', () => {
    it('reads an empty list in under 100 ms, also from a fresh store', async () => {
      const store = newStore();
      const started = performance.now();
      const events = await store.read(newAggregate());
      const elapsed = performance.now() - started;
      expect(events).toEqual([]);
      expect(elapsed).toBeLessThan(100);
    });
  });

  describe('when a single event is appended and read back', () => {
    it('returns version 1 and the CIM envelope, with the ids and headers on the message', async () => {
      const store = newStore();
      const id = newAggregate();
      const event = resourceUpdated(1);
      expect(await store.append(id, [event])).toBe(1);

      const [read, ...rest] = await store.read(id);
      expect(rest).toEqual([]);
      expect(read).toMatchObject({
        aggregate_id: id,
        sequence: 1,
        event_type: 'ResourceUpdated',
        data: event.data,
        metadata: null,
      });
      expect(isUuid(read?.event_id)).toBe(true);
      expect(isUuid(read?.correlation_id)).toBe(true);
      expect(read?.causation_id).toBe(read?.event_id);
      expect(parseTimestamp(read?.timestamp)).toBeDefined();

      const msg = await jsm.direct.getMessage(STREAM, { last_by_subj: `${PREFIX}.${id}` });
      expect(msg?.subject).toBe(store.subjectFor(id));
      expect(msg?.header.get('Nats-Msg-Id')).toBe(read?.event_id);
      expect(msg?.header.get(EVENT_TYPE_HEADER)).toBe('ResourceUpdated');
      expect(msg?.header.get(VERSION_HEADER)).toBe('1');
      expect(JSON.parse(msg?.string() ?? '')).toEqual(read);
    });
  });

  describe('when the connection is not usable', () => {
    it('fails fast with a clear error when nothing listens at the address', async () => {
      const port = await freePort();
      const started = performance.now();
      await expect(
        connect({ servers: `nats://127.0.0.1:${port}`, reconnect: false, timeout: 1_000 }),
      ).rejects.toThrow(/connection refused/);
      expect(performance.now() - started).toBeLessThan(1_000);
    });

    it('fails fast with PROSA_NATS_UNREACHABLE when the connection given to the store is closed', async () => {
      const closed = await connectNats();
      await closed.close();
      const store = createEventStore({ connection: closed, stream: STREAM, subjectPrefix: PREFIX });
      const started = performance.now();
      const error = await store.append(newAggregate(), updates(1)).catch((e: unknown) => e);
      expect(performance.now() - started).toBeLessThan(100);
      expect(error).toBeInstanceOf(ProsaError);
      expect(error).toMatchObject({ code: 'PROSA_NATS_UNREACHABLE' });
      expect((error as Error).message).toMatch(
        /the NATS connection is closed; give createEventStore an open/,
      );
      await expect(store.read(newAggregate())).rejects.toThrow(/connection is closed/);
    });

    it('says the stream is missing and how to create it', async () => {
      const store = createEventStore({
        connection: nc,
        stream: `MISSING_${nuid.next()}`,
        subjectPrefix: 'nowhere',
      });
      const error = await store.read(newAggregate()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProsaError);
      expect(error).toMatchObject({ code: 'PROSA_STREAM_MISSING' });
      expect((error as Error).message).toMatch(/does not exist; create it with subjects \['nowhere\.>'\]/);
    });

    it('refuses bad options with a ConfigError naming the field', () => {
      expect(() => createEventStore({ connection: nc, stream: 'BAD.NAME' })).toThrow(ConfigError);
      expect(() => createEventStore({ connection: nc, stream: 'S', batchWindow: 0 })).toThrow(
        /batchWindow: must be an integer >= 1, got 0/,
      );
    });
  });

  describe('when an empty batch is appended', () => {
    it('stores nothing and returns the current version', async () => {
      const store = newStore();
      const id = newAggregate();
      expect(await store.append(id, [])).toBe(0);
      await store.append(id, updates(2));
      expect(await store.append(id, [], { expectedVersion: 2 })).toBe(2);
      expect(await store.read(id)).toHaveLength(2);
    });

    it('still checks the expected version', async () => {
      const store = newStore();
      const id = newAggregate();
      await store.append(id, updates(1));
      await expect(store.append(id, [], { expectedVersion: 3 })).rejects.toBeInstanceOf(VersionConflictError);
    });
  });

  describe('when one batch is appended', () => {
    for (const size of [10, 100, 1_000]) {
      it(`stores all ${size} events in order and returns version ${size}`, async () => {
        const store = newStore();
        const id = newAggregate();
        expect(await store.append(id, updates(size), { expectedVersion: 0 })).toBe(size);
        const events = await store.read(id);
        expect(events).toHaveLength(size);
        expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: size }, (_, i) => i + 1));
        expect(events.map(hostOf)).toEqual(Array.from({ length: size }, (_, i) => `host-${i + 1}`));
        expect(new Set(events.map((e) => e.correlation_id)).size).toBe(1);
      });
    }
  });

  describe('when batches are appended one after another', () => {
    it('tracks the version across 5 batches of 10', async () => {
      const store = newStore();
      const id = newAggregate();
      let version = 0;
      for (let batch = 0; batch < 5; batch++) {
        version = await store.append(id, updates(10, batch * 10 + 1), { expectedVersion: version });
        expect(version).toBe((batch + 1) * 10);
        expect(await store.version(id)).toBe(version);
      }
      expect((await store.read(id)).map(hostOf)).toEqual(
        Array.from({ length: 50 }, (_, i) => `host-${i + 1}`),
      );
    });
  });

  describe('optimistic concurrency', () => {
    describe('when the expected version is the current one', () => {
      it('appends, also from a store that has never seen the aggregate', async () => {
        const id = newAggregate();
        await newStore().append(id, updates(3));
        expect(await newStore().append(id, updates(1, 4), { expectedVersion: 3 })).toBe(4);
      });
    });

    describe('when another store appended since this one last wrote', () => {
      it('throws VersionConflictError naming the aggregate, the expected and the actual version', async () => {
        const mine = newStore();
        const theirs = newStore();
        const id = newAggregate();
        await mine.append(id, updates(2), { expectedVersion: 0 });
        await theirs.append(id, updates(3, 3), { expectedVersion: 2 });

        const error = await mine.append(id, updates(1, 6), { expectedVersion: 2 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(VersionConflictError);
        expect(error).toMatchObject({
          code: 'PROSA_VERSION_CONFLICT',
          aggregateId: id,
          expectedVersion: 2,
          actualVersion: 5,
        });
        expect((error as Error).message).toBe(
          `aggregate ${id}: expected version 2, but it is at version 5; read the aggregate again, decide again, and append with the new version`,
        );
        expect(await mine.version(id)).toBe(5);
        expect(await mine.append(id, updates(1, 6), { expectedVersion: 5 })).toBe(6);
      });
    });

    describe('when a new aggregate is expected but it already has events', () => {
      it('refuses expectedVersion 0', async () => {
        const id = newAggregate();
        await newStore().append(id, updates(1));
        await expect(newStore().append(id, updates(1), { expectedVersion: 0 })).rejects.toThrow(
          /expected version 0, but it is at version 1/,
        );
      });
    });

    describe('when 50 writers on 5 connections race on the same expected version', () => {
      it('lets exactly one win and refuses the other 49', async () => {
        const id = newAggregate();
        await newStore().append(id, updates(3));
        const connections = await Promise.all(Array.from({ length: 5 }, () => connectNats()));
        const writers = Array.from({ length: 50 }, (_, i) =>
          createEventStore({
            connection: connections[i % 5] as NatsConnection,
            stream: STREAM,
            subjectPrefix: PREFIX,
          }),
        );
        // Each writer has seen version 3, so every append below is a single server-checked publish.
        await Promise.all(writers.map((w) => w.version(id)));

        const results = await Promise.allSettled(
          writers.map((w, i) => w.append(id, [resourceUpdated(100 + i)], { expectedVersion: 3 })),
        );
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(49);
        for (const e of lost) {
          expect(e).toBeInstanceOf(VersionConflictError);
          expect(e).toMatchObject({ expectedVersion: 3, actualVersion: 4 });
        }
        const events = await newStore().read(id);
        expect(events).toHaveLength(4);
        expect(hostOf(events[3] as StoredEvent)).toBe(`host-${100 + (won[0] as number)}`);
      });
    });

    describe('when writers append without an expected version at the same time', () => {
      it('stores every event once with exact versions', async () => {
        const id = newAggregate();
        const connections = await Promise.all(Array.from({ length: 4 }, () => connectNats()));
        const writers = connections.map((c) =>
          createEventStore({ connection: c, stream: STREAM, subjectPrefix: PREFIX, maxRetries: 100 }),
        );
        await Promise.all(
          writers.map(async (w, i) => {
            for (let k = 0; k < 5; k++) await w.append(id, updates(3, i * 100 + k * 3));
          }),
        );
        const events = await newStore().read(id);
        expect(events).toHaveLength(60);
        expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      });
    });

    describe('when the same event ids are appended again (a retry after a lost acknowledgement)', () => {
      it('stores them once and returns the version they have', async () => {
        const store = newStore();
        const id = newAggregate();
        const batch = updates(3).map((e) => ({ ...e, eventId: uuidv7() }));
        expect(await store.append(id, batch)).toBe(3);
        expect(await newStore().append(id, batch)).toBe(3);
        expect(await store.read(id)).toHaveLength(3);
      });
    });
  });

  describe('batches under concurrent writers', () => {
    describe('when other aggregates are written while a 1,000-event batch is published', () => {
      it('stores the whole batch, contiguous and in order', async () => {
        const id = newAggregate();
        const others = Array.from({ length: 20 }, newAggregate);
        const noise = createEventStore({
          connection: await connectNats(),
          stream: STREAM,
          subjectPrefix: PREFIX,
        });
        let stop = false;
        const noisy = (async () => {
          let n = 0;
          while (!stop) await Promise.all(others.map((o) => noise.append(o, [resourceUpdated(n++)])));
        })();
        await sleep(20);
        const version = await newStore().append(id, updates(1_000), { expectedVersion: 0 });
        stop = true;
        await noisy;
        expect(version).toBe(1_000);
        // Other aggregates' events did land between ours in the stream (so the batch went on past
        // refused chain links), yet the aggregate's own events are exactly the batch.
        const subject = newStore().subjectFor(id);
        const first = await jsm.direct.getMessage(STREAM, { seq: 1, next_by_subj: subject });
        const last = await jsm.direct.getMessage(STREAM, { last_by_subj: subject });
        expect((last?.seq ?? 0) - (first?.seq ?? 0) + 1).toBeGreaterThan(1_000);
        const events = await newStore().read(id);
        expect(events.map(hostOf)).toEqual(Array.from({ length: 1_000 }, (_, i) => `host-${i + 1}`));
        expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
      });
    });

    describe('when another writer publishes to the same aggregate during a 1,000-event batch', () => {
      it('never lets its events land inside the batch: the batch is whole or a reported prefix', async () => {
        const id = newAggregate();
        const subject = newStore().subjectFor(id);
        const rogue = jetstream(await connectNats());
        const rival = createEventStore({
          connection: await connectNats(),
          stream: STREAM,
          subjectPrefix: PREFIX,
        });
        const batch = updates(1_000).map((e) => ({ ...e, eventId: uuidv7() }));
        const ours = new Map(batch.map((e, i) => [e.eventId, i]));
        let stop = false;
        // A raw publisher with no expectations (as a foreign writer would) and a rival store that
        // looks the version up and appends without a check.
        const interferers = [
          (async () => {
            const rogueEvent = () =>
              JSON.stringify(makeEnvelope({ aggregateId: id, eventType: 'Rogue', data: {} }));
            while (!stop) {
              await Promise.all(Array.from({ length: 20 }, () => rogue.publish(subject, rogueEvent())));
              await sleep(1);
            }
          })(),
          (async () => {
            while (!stop) await rival.append(id, [resourceUpdated(-1)]).catch(() => undefined);
          })(),
        ];
        await sleep(10);
        // Without an expected version the store retries lost races; make it persistent enough to land.
        const outcome = await newStore({ maxRetries: 1_000 })
          .append(id, batch)
          .then(
            (version) => ({ version, error: undefined }),
            (error: unknown) => ({ version: undefined, error }),
          );
        stop = true;
        await Promise.all(interferers);

        const events = await newStore().read(id);
        const positions = events.flatMap((e, at) => {
          const i = ours.get(e.event_id);
          return i === undefined ? [] : [{ at, i }];
        });
        // Our events are one contiguous run, in batch order, starting with the batch's first event.
        positions.forEach((p, k) => {
          expect(p.i).toBe(k);
          expect(p.at).toBe((positions[0]?.at ?? 0) + k);
        });
        if (outcome.error === undefined) {
          expect(positions).toHaveLength(1_000);
        } else if (outcome.error instanceof VersionConflictError) {
          expect(positions).toHaveLength(0); // never got in: nothing of the batch was stored
        } else {
          expect(outcome.error).toBeInstanceOf(PartialAppendError);
          expect((outcome.error as PartialAppendError).appended).toBe(positions.length);
          expect((outcome.error as Error).message).toMatch(/of 1000 events were stored/);
        }
      });
    });

    describe('when the stream refuses part of a batch (a per-stream message limit)', () => {
      it('throws PartialAppendError saying how many events were stored and the version', async () => {
        const limited = `ES_LIMITED_${nuid.next()}`;
        const prefix = `limited_${nuid.next().toLowerCase()}`;
        await jsm.streams.add({
          name: limited,
          subjects: [`${prefix}.>`],
          allow_direct: true,
          max_msgs: 5,
          discard: 'new',
        });
        const store = createEventStore({ connection: nc, stream: limited, subjectPrefix: prefix });
        const id = newAggregate();
        const error = await store.append(id, updates(8), { expectedVersion: 0 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(PartialAppendError);
        expect(error).toMatchObject({
          code: 'PROSA_APPEND_PARTIAL',
          aggregateId: id,
          appended: 5,
          total: 8,
          version: 5,
        });
        expect((error as Error).message).toBe(
          `aggregate ${id}: 5 of 8 events were stored (now at version 5); append the remaining events with expectedVersion set to that version`,
        );
        expect((await store.read(id)).map(hostOf)).toEqual([
          'host-1',
          'host-2',
          'host-3',
          'host-4',
          'host-5',
        ]);
        await jsm.streams.delete(limited);
      });
    });
  });

  describe('reading', () => {
    describe('when reading from a version', () => {
      it('returns the events from that version on, and nothing past the end', async () => {
        const store = newStore();
        const short = newAggregate();
        const long = newAggregate();
        await store.append(short, updates(5));
        await store.append(long, updates(40));
        expect((await store.read(short, { fromVersion: 3 })).map((e) => e.sequence)).toEqual([3, 4, 5]);
        expect((await store.read(long, { fromVersion: 31 })).map((e) => e.sequence)).toEqual(
          Array.from({ length: 10 }, (_, i) => 31 + i),
        );
        expect((await store.read(long, { fromVersion: 40 })).map(hostOf)).toEqual(['host-40']);
        expect(await store.read(long, { fromVersion: 41 })).toEqual([]);
        await expect(store.read(long, { fromVersion: 0 })).rejects.toThrow(RangeError);
      });
    });

    describe('when asking for the version', () => {
      it('returns the number of events, also to a store that did not write them', async () => {
        const id = newAggregate();
        await newStore().append(id, updates(7));
        expect(await newStore().version(id)).toBe(7);
      });
    });

    describe('when events of several aggregates share a correlation id', () => {
      it('finds them across aggregates by envelope or domain correlation id, in stream order', async () => {
        const store = newStore();
        const correlationId = uuidv4();
        const [a, b, c] = [newAggregate(), newAggregate(), newAggregate()];
        await store.append(a, updates(2), { correlationId });
        await store.append(b, updates(3)); // unrelated
        await store.append(c, [resourceUpdated(9, { correlationId })]); // domain correlation only
        await store.append(b, updates(1, 4), { correlationId });

        const found = await store.readByCorrelation(correlationId);
        expect(found.map((e) => [e.aggregate_id, e.sequence])).toEqual([
          [a, 1],
          [a, 2],
          [c, 1],
          [b, 4],
        ]);
        expect(await store.readByCorrelation(uuidv4())).toEqual([]);
      });
    });

    describe('when events were appended before, during and after a time range', () => {
      it('returns exactly those inside it, comparing timestamps as instants', async () => {
        const store = newStore();
        const id = newAggregate();
        await store.append(id, updates(3));
        await sleep(5);
        const from = new Date();
        await store.append(id, updates(4, 4));
        const to = new Date();
        await sleep(5);
        await store.append(id, updates(3, 8));

        const inside = await store.readByTimeRange(from, to);
        expect(inside.filter((e) => e.aggregate_id === id).map(hostOf)).toEqual([
          'host-4',
          'host-5',
          'host-6',
          'host-7',
        ]);
        // The same instants written with an offset and nanoseconds.
        const shifted = (d: Date) => {
          const t = new Date(d.getTime() + 2 * 3_600_000).toISOString().replace('Z', '');
          return `${t}000000+02:00`;
        };
        const again = await store.readByTimeRange(shifted(from), shifted(to));
        expect(again.filter((e) => e.aggregate_id === id).map(hostOf)).toEqual(
          inside.filter((e) => e.aggregate_id === id).map(hostOf),
        );
        await expect(store.readByTimeRange(new Date(2_000), new Date(1_000))).rejects.toThrow(/is after/);
      });
    });

    describe('when 10 aggregates are written at the same time', () => {
      it('keeps each one its own events, in order', async () => {
        const store = newStore();
        const ids = Array.from({ length: 10 }, newAggregate);
        await Promise.all(
          ids.map(async (id, n) => {
            for (let k = 0; k < 5; k++)
              await store.append(id, updates(2, n * 100 + k * 2 + 1), { expectedVersion: k * 2 });
          }),
        );
        for (const [n, id] of ids.entries()) {
          const events = await newStore().read(id);
          expect(events.every((e) => e.aggregate_id === id)).toBe(true);
          expect(events.map(hostOf)).toEqual(Array.from({ length: 10 }, (_, i) => `host-${n * 100 + i + 1}`));
        }
      });
    });

    describe('when 1,000 reads of every kind have run', () => {
      it('leaves the stream with as many consumers as before', async () => {
        // A stream of its own, so that the scans stay short.
        const store = createEventStore({ connection: nc, stream: `ES_READS_${nuid.next()}` });
        await store.ensureStream();
        const small = newAggregate();
        const large = newAggregate();
        const correlationId = uuidv7();
        await store.append(small, updates(3), { correlationId });
        await store.append(large, updates(50));
        const before = await consumerCount(store.stream);
        const count = (length: number) => (events: StoredEvent[] | number) =>
          expect(typeof events === 'number' ? events : events.length).toBe(length);
        const reads: (() => Promise<unknown>)[] = [
          () => store.read(small).then(count(3)),
          () => store.read(large).then(count(50)),
          () => store.read(large, { fromVersion: 25 }).then(count(26)),
          () => store.read(newAggregate()).then(count(0)),
          () => store.version(large).then(count(50)),
          () => store.readByCorrelation(correlationId).then(count(3)),
          () => store.readByTimeRange(new Date(Date.now() - 60_000), new Date()).then(count(53)),
        ];
        for (let i = 0; i < 1_000; i += 10) {
          await Promise.all(
            Array.from({ length: 10 }, (_, k) => (reads[(i + k) % reads.length] as () => Promise<unknown>)()),
          );
        }
        expect(await consumerCount(store.stream)).toBe(before);
        await jsm.streams.delete(store.stream);
      });
    });
  });

  describe('ensureStream', () => {
    describe('when the stream does not exist', () => {
      it('creates it with the store subjects and direct get', async () => {
        const name = `ES_NEW_${nuid.next()}`;
        const store = createEventStore({ connection: nc, stream: name });
        await store.ensureStream();
        const info = await jsm.streams.info(name);
        expect(info.config.subjects).toEqual([`${name.toLowerCase()}.>`]);
        expect(info.config.allow_direct).toBe(true);
        const id = newAggregate();
        expect(await store.append(id, updates(2))).toBe(2);
        await jsm.streams.delete(name);
      });
    });

    describe('when the stream exists without direct get', () => {
      it('leaves it as it is, and the store still works', async () => {
        const name = `ES_OLD_${nuid.next()}`;
        await jsm.streams.add({ name, subjects: ['old.>'], max_age: 0 });
        const store = createEventStore({ connection: nc, stream: name, subjectPrefix: 'old' });
        await store.ensureStream();
        expect((await jsm.streams.info(name)).config.allow_direct).toBe(false);
        const id = newAggregate();
        expect(await store.append(id, updates(3))).toBe(3);
        expect(await store.append(id, updates(1, 4), { expectedVersion: 3 })).toBe(4);
        expect((await store.read(id, { fromVersion: 2 })).map(hostOf)).toEqual([
          'host-2',
          'host-3',
          'host-4',
        ]);
        expect(await consumerCount(name)).toBe(0);
        await jsm.streams.delete(name);
      });
    });
  });
});

/** A TCP port nothing listens on (taken from the OS, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}
