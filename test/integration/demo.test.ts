import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import topology from '../../projections/topology.js';
import { publishDemo } from '../../src/cim/demo/index.js';
import { decodeInfrastructureEvent } from '../../src/cim/infrastructure.js';
import type { RawEvent } from '../../src/define/projection.js';
import { ProsaError } from '../../src/errors.js';
import { openDatabase } from '../../src/store/database.js';
import { startNatsServer, type TestNatsServer } from '../support/natsServer.js';
import { readTopology, referenceTopology } from '../support/referenceTopology.js';
import { createTestRuntime } from '../support/runtimeHarness.js';

const STREAM = 'INFRASTRUCTURE_EVENTS';

describe('demo publisher on a real nats-server', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;

  /** The stream as the CIM crate creates it, get-or-create (docs/wire-format.md#stream-infrastructure_events). */
  const createCrateStream = async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: STREAM,
      subjects: ['infrastructure.>'],
      max_age: 365 * 24 * 3600 * 1e9,
      max_msgs: 1_000_000,
    });
  };
  const deleteStream = async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(STREAM).catch(() => undefined);
  };
  /** Every message of the stream, in stream order, with its headers. */
  const readStream = async () => {
    const js = jetstream(nc);
    const consumer = await js.consumers.get(STREAM);
    const info = await (await jetstreamManager(nc)).streams.info(STREAM);
    const out: (RawEvent & { headers: unknown })[] = [];
    const messages = await consumer.fetch({ max_messages: info.state.messages, expires: 5_000 });
    for await (const m of messages) {
      out.push({ subject: m.subject, seq: m.seq, data: m.data, headers: m.headers });
      if (out.length === info.state.messages) break;
    }
    return out;
  };

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.cleanup();
  });

  describe('when no stream captures the infrastructure subjects', () => {
    it('fails with PROSA_STREAM_MISSING saying to create INFRASTRUCTURE_EVENTS', async () => {
      const failure = publishDemo({ js: jetstream(nc), events: 5 });
      await expect(failure).rejects.toThrow(ProsaError);
      await expect(failure).rejects.toThrow(
        /no stream captures the demo subjects.*create INFRASTRUCTURE_EVENTS/,
      );
    });
  });

  describe('when 500 demo events are published and the topology worker runs', () => {
    it('builds the model the reference fold of the stored events gives', async () => {
      await createCrateStream();
      const progress: number[] = [];
      const result = await publishDemo({
        js: jetstream(nc),
        events: 500,
        seed: 3,
        window: 64,
        onProgress: (published, total) => {
          expect(total).toBe(500);
          progress.push(published);
        },
      });
      expect(result.published).toBe(500);
      expect(progress.at(-1)).toBe(500);

      const stored = await readStream();
      expect(stored).toHaveLength(500);
      // As the crates publish: no headers at all.
      expect(stored.filter((m) => m.headers !== undefined)).toEqual([]);

      const t = createTestRuntime(server.url, {
        projections: [topology],
        defaults: { batch: { maxMessages: 100, maxWaitMs: 50 } },
      });
      try {
        await t.runtime.start();
        await t.runtime.caughtUp({ timeoutMs: 30_000 });
        const status = await t.runtime.status();
        expect(status.projections[0]).toMatchObject({ name: 'topology', checkpoint: 500, deadLettered: 0 });
        const db = openDatabase(t.sqlitePath, { readonly: true });
        try {
          expect(readTopology(db)).toEqual(referenceTopology(stored.map(decodeInfrastructureEvent)));
        } finally {
          db.close();
        }
      } finally {
        await t.cleanup();
        await deleteStream();
      }
    });
  });

  describe('when a rate is given', () => {
    it('publishes no faster than the rate', async () => {
      await createCrateStream();
      try {
        const result = await publishDemo({ js: jetstream(nc), events: 60, rate: 200 });
        expect(result.published).toBe(60);
        // 60 events at 200/s: the last starts 59/200 s after the first.
        expect(result.ms).toBeGreaterThanOrEqual(280);
      } finally {
        await deleteStream();
      }
    });
  });

  describe('when it is aborted', () => {
    it('stops, waits for what is in flight and reports what was published', async () => {
      await createCrateStream();
      try {
        const controller = new AbortController();
        const result = await publishDemo({
          js: jetstream(nc),
          events: 10_000,
          rate: 500,
          signal: controller.signal,
          onProgress: (published) => {
            if (published >= 20) controller.abort();
          },
        });
        expect(result.published).toBeGreaterThanOrEqual(20);
        expect(result.published).toBeLessThan(10_000);
        const info = await (await jetstreamManager(nc)).streams.info(STREAM);
        expect(info.state.messages).toBe(result.published);
      } finally {
        await deleteStream();
      }
    });
  });
});
