// An entity's order around a bad event, with real processes: the worker is killed -9 while events
// wait behind a dead letter, and `prosa dlq skip` is killed -9 while it releases 20,000 of them.
// Each kill leaves all of them waiting or all of them applied, never a part, and in the end the
// read model is the reference fold of every good event, each applied once and in order.
import type { ChildProcess } from 'node:child_process';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeInfrastructureEvent } from '../../src/cim/infrastructure.js';
import { publishAll } from '../bench/support.js';
import { cliProject, spawnCli } from '../support/cliHarness.js';
import { badCoresUpdated, hostnameUpdated, registered } from '../support/infrastructureEvents.js';
import { startNatsServer, type TestNatsServer, waitForStream } from '../support/natsServer.js';
import { readTopologyFile, referenceTopology } from '../support/referenceTopology.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exited = (p: ChildProcess) =>
  new Promise<number | null>((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', (c) => r(c))));

describe('events waiting behind a dead letter, under kill -9', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url, noAsyncTraces: true, maxReconnectAttempts: -1 });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.cleanup();
  });

  it('a killed worker keeps them waiting, a killed skip releases all or none, and the end is the reference', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete('INFRASTRUCTURE_EVENTS').catch(() => {});
    await jsm.streams.delete('DLQ').catch(() => {});
    const WAITING = 20_000;
    const events = [
      registered('k1'),
      registered('k2'),
      badCoresUpdated('k1'), // seq 3: the dead letter
      ...Array.from({ length: WAITING }, (_, i) => hostnameUpdated('k1', `k1-${i}`)),
      hostnameUpdated('k2', 'k2-last'),
    ];
    const project = cliProject(
      server.url,
      '{ projections: [topology], http: { enabled: false }, defaults: { batch: { maxMessages: 500, maxWaitMs: 50 } } }',
      { topology: 'projections/topology.ts' },
    );
    const db = () => new Database(project.sqlitePath, { readonly: true });
    const count = (sql: string) => {
      const d = db();
      try {
        return d.prepare(sql).pluck().get() as number;
      } finally {
        d.close();
      }
    };
    const checkpoint = () =>
      count("SELECT coalesce(max(seq), 0) FROM prosa_checkpoints WHERE worker = 'topology'");
    const waiting = () => count("SELECT count(*) FROM prosa_waiting WHERE worker = 'topology'");
    const k1Hostname = () => {
      const d = db();
      try {
        return d.prepare("SELECT hostname FROM compute_resources WHERE id = 'k1'").pluck().get();
      } finally {
        d.close();
      }
    };

    // 1. The worker parks k1 and records its updates as waiting; it is killed -9 along the way.
    let worker = spawnCli(project, ['run']);
    await waitForStream(jsm, 'INFRASTRUCTURE_EVENTS');
    const publishing = publishAll(jetstream(nc), events, 500);
    for (let kills = 0; kills < 3; kills++) {
      await sleep(800 + Math.floor(Math.random() * 800));
      worker.kill('SIGKILL');
      await exited(worker);
      worker = spawnCli(project, ['run']);
    }
    await publishing;
    const deadline = Date.now() + 60_000;
    while (checkpoint() < events.length && Date.now() < deadline) await sleep(200);
    expect(checkpoint()).toBe(events.length);
    worker.kill('SIGKILL');
    await exited(worker);
    expect(waiting()).toBe(WAITING);
    expect(k1Hostname()).toBe('k1');

    // 2. `prosa dlq skip` (no worker runs: on SQLite) killed -9 at random points: all or none.
    // Kills move later each attempt (with jitter), from before the command has loaded to past its
    // commit, so some land before the release, and the last ones in it or after it.
    let done = false;
    let killed = 0;
    for (let attempt = 0; attempt < 16 && !done; attempt++) {
      const skip = spawnCli(project, ['dlq', 'skip', 'topology', '--seq', '3']);
      const killAt = attempt < 15 ? 400 + attempt * 150 + Math.floor(Math.random() * 150) : 120_000;
      const timer = setTimeout(() => skip.kill('SIGKILL'), killAt);
      const code = await exited(skip);
      clearTimeout(timer);
      if (code === null) killed++;
      const left = waiting();
      expect([0, WAITING]).toContain(left);
      expect(k1Hostname()).toBe(left === 0 ? `k1-${WAITING - 1}` : 'k1');
      done = code === 0 || left === 0;
    }
    expect(done).toBe(true);
    expect(killed).toBeGreaterThan(0);
    expect(waiting()).toBe(0);
    expect(
      count(
        "SELECT count(*) FROM prosa_dead_letters WHERE worker = 'topology' AND stream_seq = 3 AND resolution = 'skipped'",
      ),
    ).toBe(1);

    // 3. The end: the reference of every good event, and k1 goes on in order.
    const good = events.filter((_, i) => i !== 2).map((e) => decodeInfrastructureEvent({ seq: 0, ...e }));
    expect(readTopologyFile(project.sqlitePath)).toEqual(referenceTopology(good));
    worker = spawnCli(project, ['run']);
    await publishAll(jetstream(nc), [hostnameUpdated('k1', 'after')], 1);
    const until = Date.now() + 30_000;
    while (k1Hostname() !== 'after' && Date.now() < until) await sleep(100);
    expect(k1Hostname()).toBe('after');
    expect(waiting()).toBe(0);
    worker.kill('SIGTERM');
    await exited(worker);
  }, 240_000);
});
