// What an operator does with dead letters holds everywhere: a rebuild meets the letters already
// handled live (the code that builds the new model decides what is dead), and a purge releases what
// waited. Nothing is left waiting behind a letter nobody can resolve.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import topology from '../../projections/topology.js';
import { decodeInfrastructureEvent } from '../../src/cim/infrastructure.js';
import type { RawEvent } from '../../src/define/projection.js';
import { silentLogger } from '../../src/logger.js';
import {
  type AdminContext,
  purgeDeadLettersOf,
  retryDeadLetters,
  skipDeadLetter,
} from '../../src/ops/admin.js';
import { listDeadLetters } from '../../src/ops/deadLetters.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/database.js';
import { readDeadLetterResolution } from '../../src/store/deadLetters.js';
import { systemClock } from '../../src/time/clock.js';
import { badCoresUpdated, hostnameUpdated, registered } from '../support/infrastructureEvents.js';
import { startNatsServer, type TestNatsServer } from '../support/natsServer.js';
import { createTestRuntime, type TestRuntime } from '../support/runtimeHarness.js';

/** Whether the deployed code accepts `cpu_cores: "many"` (as "unknown"): flipped to play a fix, or a regression. */
let fixed = false;
const lenient = (raw: RawEvent) => {
  if (!fixed) return decodeInfrastructureEvent(raw);
  const body = JSON.parse(new TextDecoder().decode(raw.data));
  const caps = body.data?.ResourceUpdated?.updates?.capabilities;
  if (caps?.cpu_cores === 'many') caps.cpu_cores = null;
  return decodeInfrastructureEvent({ ...raw, data: new TextEncoder().encode(JSON.stringify(body)) });
};
const projection = { ...topology, decode: lenient };

let server: TestNatsServer;
let nc: NatsConnection;
let t: TestRuntime;
let db: SqliteDatabase;
let admin: AdminContext;

beforeEach(async () => {
  fixed = false;
  server = await startNatsServer();
  nc = await connect({ servers: server.url, noAsyncTraces: true });
  t = createTestRuntime(server.url, { projections: [projection] });
  await t.runtime.start();
  db = openDatabase(t.sqlitePath);
  admin = {
    config: t.runtime.config,
    db,
    nc,
    js: jetstream(nc),
    jsm: await jetstreamManager(nc),
    log: silentLogger(),
    clock: systemClock,
  };
  // r1's update at 3 is bad, so r1's rename at 4 waits behind it; r2's at 5 does not.
  const js = jetstream(nc);
  for (const e of [
    registered('r1'),
    registered('r2'),
    badCoresUpdated('r1'),
    hostnameUpdated('r1', 'a'),
    hostnameUpdated('r2', 'b'),
  ])
    await js.publish(e.subject, e.data);
  await t.runtime.caughtUp({ timeoutMs: 20_000 });
  expect(await waiting()).toBe(1);
});

afterEach(async () => {
  db?.close();
  await t?.cleanup();
  await nc?.close();
  await server?.cleanup();
});

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const waiting = async () => (await t.runtime.status()).projections[0]?.waiting;
const hostnameOf = (id: string) =>
  (
    db.prepare('SELECT hostname FROM compute_resources WHERE id = ?').get(id) as
      | { hostname: string }
      | undefined
  )?.hostname;
const lettersInDlq = async () => (await listDeadLetters(admin.js!, admin.jsm!, 'topology')).map((e) => e.seq);

describe('a rebuild after an operator handled a dead letter live', () => {
  it('skips again what was skipped live: nothing waits behind it after the swap', async () => {
    await skipDeadLetter(admin, 'topology', 3);
    expect(await waiting()).toBe(0);
    expect(hostnameOf('r1')).toBe('a');

    await t.runtime.rebuild('topology');

    expect(await waiting()).toBe(0);
    expect(db.prepare("SELECT count(*) FROM prosa_waiting WHERE worker = 'topology'").pluck().get()).toBe(0);
    expect(db.prepare("SELECT count(*) FROM prosa_parked WHERE worker = 'topology'").pluck().get()).toBe(0);
    expect(readDeadLetterResolution(db, 'topology', 3)).toBe('skipped');
    expect(hostnameOf('r1')).toBe('a');
    // The worker still takes r1's next events at once.
    const next = hostnameUpdated('r1', 'c');
    await jetstream(nc).publish(next.subject, next.data);
    await t.runtime.caughtUp({ timeoutMs: 20_000 });
    expect(hostnameOf('r1')).toBe('c');
  });

  it('resolves a live dead letter that the new code applies, and it leaves the DLQ stream', async () => {
    await until('the dead letter in the DLQ stream', async () => (await lettersInDlq()).includes(3));
    expect(await lettersInDlq()).toEqual([3]);
    fixed = true;

    await t.runtime.rebuild('topology');

    expect(readDeadLetterResolution(db, 'topology', 3)).toBe('retried');
    expect(await waiting()).toBe(0);
    expect(hostnameOf('r1')).toBe('a');
    expect(await lettersInDlq()).toEqual([]);
    // A retry of it now applies nothing twice.
    const again = await retryDeadLetters(admin, 'topology');
    expect(again.outcomes).toEqual([]);
  });

  it('opens again a letter retried live that the new code cannot apply, so it can be skipped', async () => {
    fixed = true;
    const retried = await retryDeadLetters(admin, 'topology', 3);
    expect(retried.outcomes).toEqual([{ seq: 3, applied: true, released: { applied: 1, deadLettered: 0 } }]);
    expect(await waiting()).toBe(0);
    fixed = false;

    await t.runtime.rebuild('topology');

    expect(readDeadLetterResolution(db, 'topology', 3)).toBeNull();
    expect(await waiting()).toBe(1);
    await until('the letter published again', async () => (await lettersInDlq()).includes(3));
    expect(await lettersInDlq()).toEqual([3]);

    const skipped = await skipDeadLetter(admin, 'topology', 3);
    expect(skipped).toMatchObject({ via: 'running worker', released: { applied: 1, deadLettered: 0 } });
    expect(await waiting()).toBe(0);
    expect(hostnameOf('r1')).toBe('a');
  });
});

describe('a rebuild while an operator paused the worker', () => {
  it('leaves it paused, and a skip on it acts on the swapped-in model', async () => {
    await t.runtime.pause('topology', 'held by an operator');
    await t.runtime.rebuild('topology');
    expect((await t.runtime.status()).projections[0]).toMatchObject({ state: 'paused', waiting: 1 });

    const skipped = await skipDeadLetter(admin, 'topology', 3);
    expect(skipped).toMatchObject({ via: 'running worker', released: { applied: 1, deadLettered: 0 } });
    expect(hostnameOf('r1')).toBe('a');
    expect((await t.runtime.status()).projections[0]).toMatchObject({ state: 'paused', waiting: 0 });

    await t.runtime.resume('topology');
    const next = hostnameUpdated('r1', 'c');
    await jetstream(nc).publish(next.subject, next.data);
    await t.runtime.caughtUp({ timeoutMs: 20_000 });
    expect(hostnameOf('r1')).toBe('c');
  });
});

describe("purging a consumer's dead letters", () => {
  it('applies what waited behind them, in order, and leaves nothing parked', async () => {
    await until('the dead letter in the DLQ stream', async () => (await lettersInDlq()).includes(3));
    const purged = await purgeDeadLettersOf(admin, 'topology');
    expect(purged).toBe(1);
    expect(await waiting()).toBe(0);
    expect(db.prepare("SELECT count(*) FROM prosa_parked WHERE worker = 'topology'").pluck().get()).toBe(0);
    expect(hostnameOf('r1')).toBe('a');
    expect(readDeadLetterResolution(db, 'topology', 3)).toBe('skipped');
    expect(await lettersInDlq()).toEqual([]);
    const next = hostnameUpdated('r1', 'c');
    await jetstream(nc).publish(next.subject, next.data);
    await t.runtime.caughtUp({ timeoutMs: 20_000 });
    expect(hostnameOf('r1')).toBe('c');
  });
});
