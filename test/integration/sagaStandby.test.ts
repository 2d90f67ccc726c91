// Two runtimes on one NATS (issue 17): one is the saga's active process, the other a standby that
// is healthy, says who is active (status, metrics), and takes over when the active one drains.
import { hostname } from 'node:os';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import decommission from '../../sagas/decommission.js';
import { startNatsServer, type TestNatsServer } from '../support/natsServer.js';
import { createTestRuntime, type TestRuntime } from '../support/runtimeHarness.js';
import { waitForAsync } from '../support/waitFor.js';

describe('a saga in two processes', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  const runtimes: TestRuntime[] = [];
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    for (const t of runtimes) await t.cleanup();
    await nc?.close();
    await server?.cleanup();
  });

  const leaseOf = async (t: TestRuntime) => (await t.runtime.status()).sagas[0]?.lease;

  it('has one active and one healthy standby naming it, and hands over on drain', {
    timeout: 60_000,
  }, async () => {
    const config = (instance: string) => ({ instance, sagas: [decommission], defaults: { leaseTtl: '2s' } });
    const first = createTestRuntime(server.url, config('a'));
    runtimes.push(first);
    await first.runtime.start();
    await waitForAsync('the first to be active', async () => (await leaseOf(first))?.role === 'active');
    const second = createTestRuntime(server.url, config('b'));
    runtimes.push(second);
    await second.runtime.start();
    await waitForAsync('the second to see the active', async () => (await leaseOf(second))?.active !== null);

    expect(await leaseOf(second)).toEqual({
      role: 'standby',
      active: { host: hostname(), pid: process.pid },
      takeovers: 0,
    });
    expect(second.runtime.health()).toEqual({ ok: true });
    second.runtime.metrics.observe(await second.runtime.status());
    const text = await second.runtime.metrics.registry.metrics();
    expect(text).toMatch(/prosa_saga_lease_active\{worker="decommission",kind="saga"\} 0/);
    expect(text).toMatch(/prosa_saga_lease_takeovers\{worker="decommission",kind="saga"\} 0/);
    // Each has its own durable.
    const consumers = (
      await (await jetstream(nc).jetstreamManager()).consumers.list('INFRASTRUCTURE_EVENTS').next()
    )
      .map((c) => c.name)
      .sort();
    expect(consumers).toEqual(['decommission-a', 'decommission-b']);

    const t0 = performance.now();
    await first.runtime.drain();
    await waitForAsync('the standby to take over', async () => (await leaseOf(second))?.role === 'active');
    expect(performance.now() - t0).toBeLessThan(2_000); // released: no need to wait for the ttl
    expect((await leaseOf(second))?.takeovers).toBe(1);
  });
});
