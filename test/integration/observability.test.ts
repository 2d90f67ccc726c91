import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ProsaConfigInput, resolveConfig } from '../../src/config/config.js';
import { silentLogger } from '../../src/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime/runtime.js';
import { ledger } from '../support/fixtures/ledger.js';
import { startNatsServer, type TestNatsServer } from '../support/natsServer.js';
import { tempDir } from '../support/runtimeHarness.js';

describe('prosa run: /healthz and /metrics', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let runtime: Runtime | undefined;
  const run = async (over: Partial<ProsaConfigInput> = {}) => {
    const dir = tempDir();
    runtime = createRuntime(
      resolveConfig(
        {
          streams: { LEDGER: { mode: 'managed', subjects: ['ledger.>'] } },
          projections: [ledger],
          defaults: { batch: { maxMessages: 50, maxWaitMs: 50 } },
          ...over,
          nats: { url: server.url },
          dataDir: dir,
          sqlite: { path: join(dir, 'prosa.db') },
          http: { port: 0 },
        },
        { env: {} },
      ),
      { log: silentLogger() },
    );
    await runtime.start();
    return { runtime, url: runtime.http?.url as string };
  };
  const publish = (subject: string, body: string) => jetstream(nc).publish(subject, body);

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  afterEach(async () => {
    await runtime?.drain();
    runtime = undefined;
    // A fresh connection: the shared one may still be reconnecting after a server restart.
    const fresh = await connect({ servers: server.url });
    await (await jetstreamManager(fresh)).streams.delete('LEDGER').catch(() => {});
    await fresh.close();
  });
  afterAll(async () => {
    await nc?.close();
    await server?.cleanup();
  });

  describe('when the worker is connected and consuming', () => {
    it('answers /healthz 200 and counts applied and dead-lettered events in /metrics', async () => {
      const { runtime, url } = await run();
      await publish('ledger.a', JSON.stringify({ type: 'Opened', account: 'a' }));
      await publish('ledger.a', JSON.stringify({ type: 'Deposited', account: 'a', amount: 5 }));
      await publish('ledger.raw', 'not json');
      await runtime.caughtUp({ timeoutMs: 10_000 });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const text = await (await fetch(`${url}/metrics`)).text();
      const P = '{worker="ledger",kind="projection"}';
      expect(text).toContain(`prosa_events_applied_total${P} 2`);
      expect(text).toContain(`prosa_events_dead_lettered_total${P} 1`);
      expect(text).toContain(`prosa_checkpoint_sequence${P} 3`);
      expect(text).toContain(`prosa_lag_messages${P} 0`);
      expect(text).toContain(`prosa_dead_letters${P} 1`);
    });
  });

  describe('when a worker stopped at a bad event (onError: stop)', () => {
    it('answers /healthz 503 naming the worker and the event', async () => {
      const { url } = await run({ defaults: { batch: { maxMessages: 50, maxWaitMs: 50 }, onError: 'stop' } });
      await publish('ledger.raw', 'not json');
      await expect.poll(async () => (await fetch(`${url}/healthz`)).status, { timeout: 10_000 }).toBe(503);
      expect(await (await fetch(`${url}/healthz`)).json()).toEqual({
        status: 'unavailable',
        reason: expect.stringMatching(/^projection ledger is stopped: stopped at bad event 1: /),
      });
    });
  });

  describe('when NATS goes away', () => {
    it('answers /healthz 503 with the reason, and 200 again once reconnected', async () => {
      const { url } = await run();
      await server.stop();
      await expect
        .poll(async () => (await fetch(`${url}/healthz`)).json(), { timeout: 10_000 })
        .toEqual({ status: 'unavailable', reason: expect.stringMatching(/^NATS disconnected from /) });
      await server.restart();
      await expect.poll(async () => (await fetch(`${url}/healthz`)).status, { timeout: 20_000 }).toBe(200);
    });
  });
});
