// Saga leases on a real nats-server (issue 17): one holder at a time, revision-checked takeover of
// a lapsed or released lease, and an active that stops renewing stops dispatching before any other
// process can take over.
import { randomBytes } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { type LeaseStore, openLeaseStore } from '../../src/nats/leaseStore.js';
import { createSagaLease, type SagaLease } from '../../src/runtime/sagaLease.js';
import { startNatsServer, type TestNatsServer } from '../support/natsServer.js';
import { waitFor } from '../support/waitFor.js';

const TTL = 600;

describe('saga leases', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let store: LeaseStore;
  const leases: SagaLease[] = [];
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url, noAsyncTraces: true });
    store = await openLeaseStore(jetstream(nc), `test_leases_${randomBytes(3).toString('hex')}`);
  });
  afterEach(() => {
    for (const l of leases) l.stop();
    leases.length = 0;
  });
  afterAll(async () => {
    await nc?.close();
    await server?.cleanup();
  });

  /** A lease for `saga` as one process holds it, reporting `through` as published. */
  const lease = (saga: string, through = 0, pid = process.pid) => {
    const events: string[] = [];
    const l = createSagaLease({
      saga,
      store,
      ttlMs: TTL,
      log: silentLogger(),
      publishedThrough: () => through,
      epoch: async () => 'stream-1',
      onActive: (floor) => events.push(`active ${floor}`),
      onStandby: () => events.push('standby'),
      observed: () => {},
      holder: { host: 'test-host', pid, id: randomBytes(4).toString('hex') },
    });
    leases.push(l);
    return { l, events };
  };
  const active = () => leases.filter((l) => l.role === 'active');

  it('lets the first process hold it and the others wait, naming the holder', async () => {
    const a = lease('one', 40);
    a.l.start();
    await waitFor('a active', () => a.l.role === 'active', 5_000);
    const b = lease('one');
    const c = lease('one');
    b.l.start();
    c.l.start();
    await waitFor(
      'b and c to see the holder',
      () => b.l.holder !== undefined && c.l.holder !== undefined,
      5_000,
    );
    expect(active()).toEqual([a.l]);
    expect(b.l.holder?.id).toBe(a.l.holder?.id);
    expect(a.events).toEqual(['active 0']);
  });

  it('passes to exactly one standby after the holder stops renewing, which stopped dispatching first', async () => {
    const a = lease('two', 77);
    a.l.start();
    await waitFor('a active', () => a.l.role === 'active', 5_000);
    const b = lease('two');
    const c = lease('two');
    b.l.start();
    c.l.start();
    a.l.stop(); // hangs: no renewal, no release
    let aStopped = 0;
    let taken = 0;
    await waitFor(
      'a standby to take over',
      () => {
        if (!aStopped && !a.l.mayDispatch()) aStopped = performance.now();
        if (!taken && (b.l.role === 'active' || c.l.role === 'active')) taken = performance.now();
        return taken > 0;
      },
      10_000,
    );
    expect(aStopped).toBeGreaterThan(0);
    expect(taken).toBeGreaterThan(aStopped);
    const next = active();
    expect(next).toHaveLength(1);
    expect(next[0]?.floor).toBe(77);
    expect(next[0]?.takeovers).toBe(1);
    // The other one keeps waiting, and the one that hung does not come back by itself.
    await new Promise((r) => setTimeout(r, TTL));
    expect(active()).toEqual(next);
  });

  it('hands over at once on release, and the releasing process does not take it back', async () => {
    const a = lease('three', 12);
    a.l.start();
    await waitFor('a active', () => a.l.role === 'active', 5_000);
    const b = lease('three');
    b.l.start();
    await waitFor('b to see a', () => b.l.holder !== undefined, 5_000);
    const t0 = performance.now();
    expect(await a.l.release()).toBe(true);
    expect(a.l.role).toBe('standby');
    await waitFor('b active', () => b.l.role === 'active', 5_000);
    expect(performance.now() - t0).toBeLessThan(TTL);
    expect(b.l.floor).toBe(12);
    expect(active()).toEqual([b.l]);
  });

  it('takes over at once from a holder on this host whose process is gone', async () => {
    const gone = 2 ** 22 - 7; // above Linux's default pid_max: no such process
    const a = lease('four', 5, gone);
    a.l.start();
    await waitFor('a active', () => a.l.role === 'active', 5_000);
    a.l.stop();
    const b = lease('four');
    const t0 = performance.now();
    b.l.start();
    await waitFor('b active', () => b.l.role === 'active', 5_000);
    expect(performance.now() - t0).toBeLessThan(TTL);
    expect(b.l.floor).toBe(5);
  });
});
