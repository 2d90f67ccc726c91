/**
 * Several `prosa run` processes on one NATS, each with its own SQLite file: for each saga exactly one
 * is active (dispatches, fires timers), and when it dies, freezes, hands over or NATS restarts,
 * another takes over; COMMANDS ends up holding the clean pass's commands, each once.
 */
import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import decommission from '../../sagas/decommission.js';
import provisioning from '../../sagas/provisioning.js';
import type { RawEvent } from '../../src/define/projection.js';
import { POSITIONS_PER_EVENT } from '../../src/store/outbox.js';
import { replaySaga } from '../../src/testkit/sagaReplay.js';
import { publishAll } from '../bench/support.js';
import { type CliProject, cliProject, runCli, spawnCli } from '../support/cliHarness.js';
import { readCommands } from '../support/commands.js';
import { connected, registered, removed, sagaWorkload } from '../support/infrastructureEvents.js';
import { startNatsServer, type TestNatsServer, waitForStream } from '../support/natsServer.js';
import { waitForAsync } from '../support/waitFor.js';

const SAGAS = ['decommission', 'provisioning'] as const;
type Saga = (typeof SAGAS)[number];

interface Proc {
  project: CliProject;
  child: ChildProcess;
  output: string;
}

interface Ping {
  pid: number;
  checkpoint: number;
  role?: 'active' | 'standby';
  floor?: number;
}

/** What a process's SQLite says of the sagas: instances, timers and outbox rows (without times). */
function sagaState(sqlitePath: string): string {
  const db = new Database(sqlitePath, { readonly: true });
  try {
    const all = (sql: string) => JSON.stringify(db.prepare(sql).all());
    return [
      all('SELECT saga, instance, state, snapshot FROM prosa_saga_instances ORDER BY saga, instance'),
      all('SELECT saga, instance, state, cause FROM prosa_saga_finished ORDER BY saga, instance, cause'),
      all('SELECT timer_id, status FROM prosa_timers ORDER BY timer_id'),
      all(
        'SELECT command_id, position, published_at IS NOT NULL AS published FROM prosa_outbox ORDER BY command_id',
      ),
    ].join('\n');
  } finally {
    db.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A project of its own (its SQLite file) under an instance name of its own (its durables). */
function project(url: string, body: string, instance: string): CliProject {
  const p = cliProject(url, body, sagaFiles);
  p.env.PROSA_INSTANCE = instance;
  return p;
}

function start(project: CliProject): Proc {
  const proc: Proc = { project, child: spawnCli(project, ['run']), output: '' };
  proc.child.stdout?.on('data', (d) => {
    proc.output += String(d);
  });
  proc.child.stderr?.on('data', (d) => {
    proc.output += String(d);
  });
  return proc;
}

const exited = (p: Proc) =>
  p.child.exitCode !== null || p.child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => p.child.once('exit', r));

/** What every running process says of a saga (each answers the ping; a process not started yet does not). */
async function pings(nc: NatsConnection, saga: Saga, expect: number): Promise<Ping[]> {
  const out: Ping[] = [];
  try {
    const replies = await nc.requestMany(`prosa.control.${saga}.ping`, '{}', {
      strategy: 'count',
      maxMessages: expect,
      maxWait: 1_000,
    });
    for await (const m of replies) {
      const r = m.json<{ ok: boolean; result: Ping }>();
      if (r.ok) out.push(r.result);
    }
  } catch {
    // NATS away (the restart): nobody answers
  }
  return out;
}

/** Samples every process's role every 100 ms and records any moment two say they are active. */
function watchRoles(nc: NatsConnection, live: () => number) {
  const violations: string[] = [];
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const saga of SAGAS) {
        const active = (await pings(nc, saga, live())).filter((p) => p.role === 'active');
        if (active.length > 1) violations.push(`${saga}: ${active.map((p) => p.pid).join(', ')}`);
      }
      samples++;
      await sleep(100);
    }
  })();
  return {
    violations,
    get samples() {
      return samples;
    },
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

const configBody = (extra: string) =>
  `{ sagas: [decommission, provisioning], http: { enabled: false }, defaults: { leaseTtl: '2s', batch: { maxMessages: 100, maxWaitMs: 20 } }${extra} }`;
const sagaFiles = { decommission: 'sagas/decommission.ts', provisioning: 'sagas/provisioning.ts' };

/**
 * The clean pass: every command of both sagas over `events`, with the timers of the saga named
 * `timersOf` fired after the last event (their ids do not depend on the durations).
 */
function cleanPass(events: readonly RawEvent[], timersOf?: Saga) {
  const late = [{ afterSeq: events.length, ms: 16 * 60_000 }];
  const d = (timers: boolean) =>
    replaySaga(decommission, events, timers ? late : [], { steps: [] }).published.keys();
  const p = (timers: boolean) =>
    replaySaga(provisioning, events, timers ? late : [], { steps: [] }).published.keys();
  const byEvents = new Set([...d(false), ...p(false)]);
  const all = new Set([...d(timersOf === 'decommission'), ...p(timersOf === 'provisioning')]);
  return { all, byTimers: [...all].filter((id) => !byEvents.has(id)) };
}

describe('high availability: three processes, one active per saga', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  const procs: Proc[] = [];
  afterEach(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map(exited));
    procs.length = 0;
    await nc?.close();
    await server?.cleanup();
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
  });

  /** The process that says it is active for `saga`, once exactly one does. */
  async function activeOf(saga: Saga, notPid?: number): Promise<Proc> {
    let found: Proc | undefined;
    await waitForAsync(
      `one active process for ${saga}`,
      async () => {
        const live = procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
        const active = (await pings(nc, saga, live.length)).filter((p) => p.role === 'active');
        found = active.length === 1 ? procs.find((p) => p.child.pid === active[0]?.pid) : undefined;
        return found !== undefined && found.child.pid !== notPid;
      },
      30_000,
    );
    return found as Proc;
  }
  const commandCount = async () =>
    (await (await jetstreamManager(nc)).streams.info('COMMANDS')).state.messages;

  it('takes over after kill -9, a frozen active, a handover and a server restart; COMMANDS holds the clean pass once, each timer fired once', {
    timeout: 110_000,
  }, async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url, noAsyncTraces: true });
    const began = performance.now();
    const events = sagaWorkload(200);
    const deadlineMs = 25_000;
    const clean = cleanPass(events, 'provisioning');
    expect(clean.byTimers.length).toBeGreaterThan(20);
    const body = configBody(`, workers: { provisioning: { timeouts: { deadline: '${deadlineMs}ms' } } }`);
    for (let i = 0; i < 3; i++) procs.push(start(project(server.url, body, `p${i}`)));
    const alive = () => procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null).length;
    const jsm = await jetstreamManager(nc);
    await waitForStream(jsm, 'INFRASTRUCTURE_EVENTS', 30_000);
    for (const saga of SAGAS) await activeOf(saga);
    const roles = watchRoles(nc, alive);
    const takeovers: string[] = [];
    const replace = (p: Proc) => {
      procs[procs.indexOf(p)] = start(p.project);
    };
    const js = jetstream(nc);

    // 1. kill -9 while it catches up on the first events and dispatches their commands.
    await publishAll(js, events.slice(0, 300), 100);
    let victim = await activeOf('decommission');
    let t0 = performance.now();
    victim.child.kill('SIGKILL');
    await exited(victim);
    await activeOf('decommission', victim.child.pid);
    takeovers.push(`kill -9 while catching up: ${Math.round(performance.now() - t0)} ms`);
    replace(victim);

    // 2. a frozen active (SIGSTOP, alive but silent) while dispatching: taken over once its lease lapses;
    //    woken up, it finds the lease gone and dispatches nothing.
    await publishAll(js, events.slice(300, 600), 100);
    victim = await activeOf('provisioning');
    t0 = performance.now();
    victim.child.kill('SIGSTOP');
    await activeOf('provisioning', victim.child.pid);
    takeovers.push(`frozen active (lease lapses): ${Math.round(performance.now() - t0)} ms`);
    victim.child.kill('SIGCONT');

    // 3. kill -9 with timers pending (the deadline is 25 s after each registration).
    await publishAll(js, events.slice(600), 100);
    victim = await activeOf('provisioning');
    const firedBefore = (await readCommands(js, jsm)).filter((c) => clean.byTimers.includes(c.command_id));
    t0 = performance.now();
    victim.child.kill('SIGKILL');
    await exited(victim);
    await activeOf('provisioning', victim.child.pid);
    takeovers.push(
      `kill -9 with timers pending (${firedBefore.length} of ${clean.byTimers.length} fired): ${Math.round(performance.now() - t0)} ms`,
    );
    replace(victim);

    // 4. a handover, then a server restart.
    victim = await activeOf('decommission');
    t0 = performance.now();
    const handed = await runCli(victim.project, ['handover', 'decommission']);
    expect(handed.code, handed.err).toBe(0);
    await activeOf('decommission', victim.child.pid);
    takeovers.push(`prosa handover: ${Math.round(performance.now() - t0)} ms`);
    t0 = performance.now();
    await server.restart();
    for (const saga of SAGAS) await activeOf(saga);
    takeovers.push(`server restart, both sagas active again: ${Math.round(performance.now() - t0)} ms`);

    await waitForAsync(
      'every command of the clean pass in COMMANDS',
      async () => (await commandCount()) >= clean.all.size,
      60_000,
      200,
    ).catch(async (e) => {
      const commandsSoFar = await readCommands(js, jsm);
      // What the processes say of themselves, and what they logged (warnings and errors), says why.
      const have = new Set(commandsSoFar.map((c) => c.command_id));
      const missing = [...clean.all].filter((id) => !have.has(id));
      for (const saga of SAGAS) console.log(saga, JSON.stringify(await pings(nc, saga, procs.length)));
      console.log(
        `missing ${missing.length}, of them timers: ${missing.filter((id) => clean.byTimers.includes(id)).length}`,
      );
      for (const p of procs) console.log(`process ${p.child.pid}:\n${p.output.slice(-3000)}`);
      throw e;
    });
    // Anything extra would come with the next dispatch or timer look: give it two lease renewals.
    await sleep(1_500);
    await roles.stop();
    const commands = await readCommands(js, jsm);
    const ids = commands.map((c) => c.command_id);
    console.log(
      `takeover times (lease ttl 2 s): ${takeovers.join('; ')}; all commands in after ${Math.round(performance.now() - began)} ms; ${roles.samples} role samples`,
    );
    expect(roles.violations).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length); // none twice
    expect(new Set(ids)).toEqual(clean.all); // none lost, none extra
    for (const id of clean.byTimers) expect(ids.filter((x) => x === id)).toHaveLength(1);
    expect(commands.every((c) => /^\d+$/.test(c.lease ?? ''))).toBe(true);

    // Standbys went through the same events and the same firings: their sagas are the active's.
    await waitForAsync(
      'every process to hold the same saga state',
      async () => new Set(procs.map((p) => sagaState(p.project.sqlitePath))).size === 1,
      20_000,
      250,
    );
    const codes = procs.map((p) => new Promise((r) => p.child.once('exit', (code) => r(code))));
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.race([Promise.all(codes), sleep(30_000)]);
    for (const p of procs)
      if (p.child.exitCode === null) console.log(`not stopped after SIGTERM:\n${p.output.slice(-3000)}`);
    expect(await Promise.all(codes)).toEqual([0, 0, 0]);
  });

  it('a far-behind standby takes over only once caught up and emits nothing twice after the duplicate window passed', {
    timeout: 90_000,
  }, async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url, noAsyncTraces: true });
    const first = sagaWorkload(600);
    const late: RawEvent[] = [];
    for (let i = 0; i < 40; i++) late.push({ ...registered(`late-${i}`), seq: 0 });
    for (let i = 0; i < 40; i++) late.push({ ...connected(`late-${i}`, `late-${(i + 1) % 40}`), seq: 0 });
    for (let i = 0; i < 40; i += 2) late.push({ ...removed(`late-${i}`), seq: 0 });
    const all = [...first, ...late].map((e, i) => ({ ...e, seq: i + 1 }));
    // Every removed resource waits for its connections to be severed, which never comes: its
    // `stuck` timer fires (1 s here) in the first process, before it dies.
    const firstPass = cleanPass(first, 'decommission');
    const cleanFirst = firstPass.all;
    const cleanAll = cleanPass(all, 'decommission').all;
    expect(firstPass.byTimers.length).toBeGreaterThan(100);
    expect(cleanAll.size).toBeGreaterThan(cleanFirst.size);

    const windowMs = 1_000;
    const body = configBody(
      `, streams: { COMMANDS: { subjects: ['commands.>'], retention: 'workqueue', duplicateWindow: '${windowMs}ms' } }, workers: { decommission: { timeouts: { stuck: '1s' } } }`,
    );
    const a = start(project(server.url, body, 'a'));
    procs.push(a);
    const jsm = await jetstreamManager(nc);
    await waitForStream(jsm, 'INFRASTRUCTURE_EVENTS', 30_000);
    const js = jetstream(nc);
    await publishAll(js, first, 500);
    await waitForAsync(
      'the first pass dispatched',
      async () => (await commandCount()) >= cleanFirst.size,
      60_000,
      100,
    );
    // The lease records how far it published at its next renewal.
    const kv = await new Kvm(js).open('prosa_leases');
    // Its lease records, at its next renewal, that it published everything: its checkpoint's
    // position and every row it has (positions count 2^20 per event, src/store/outbox.ts).
    const through = async (saga: Saga) => (await kv.get(saga))?.json<{ through: number }>().through ?? 0;
    const lastOf = async (saga: Saga) => (await pings(nc, saga, 1))[0]?.checkpoint ?? -1;
    const highestRow = (saga: Saga) => {
      const db = new Database(a.project.sqlitePath, { readonly: true });
      try {
        return db
          .prepare('SELECT coalesce(max(position), 0) FROM prosa_outbox WHERE saga = ?')
          .pluck()
          .get(saga) as number;
      } finally {
        db.close();
      }
    };
    for (const saga of SAGAS)
      await waitForAsync(
        `${saga}'s lease through everything it published`,
        async () => {
          const t = await through(saga);
          return t >= (await lastOf(saga)) * POSITIONS_PER_EVENT && t >= highestRow(saga);
        },
        10_000,
      );
    a.child.kill('SIGKILL');
    await exited(a);
    const lastPublished = Date.parse((await jsm.streams.info('COMMANDS')).state.last_ts);
    // Past the window, a command published again would be stored again.
    await waitForAsync(
      'the duplicate window to pass',
      async () => Date.now() > lastPublished + 2 * windowMs,
      10_000,
    );

    const b = start(project(server.url, body, 'b'));
    procs.push(b);
    for (const saga of SAGAS) await activeOf(saga);
    await waitForAsync(
      'the new process to catch up',
      async () => (await lastOf('decommission')) >= first.length && (await lastOf('provisioning')) > 0,
      60_000,
    );
    // `prosa status` from another terminal, on each process's database: who is active, and its role.
    const status = async (p: Proc) => {
      const run = await runCli(p.project, ['status', '--json']);
      expect(run.code, run.err).toBe(0);
      return (JSON.parse(run.out) as { sagas: { name: string; lease?: unknown }[] }).sagas.map(
        (x) => x.lease,
      );
    };
    const expected = { active: { host: hostname(), pid: b.child.pid }, role: 'active' };
    expect(await status(b)).toEqual([expected, expected]);
    expect(await status(a)).toEqual([
      { active: expected.active, role: null },
      { active: expected.active, role: null },
    ]); // its process is gone
    expect(b.output).toMatch(/catching up to where the former active process published/);
    const caughtUpFrom = [...b.output.matchAll(/"checkpoint":(\d+),"floor":(\d+)/g)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    expect(caughtUpFrom.length).toBeGreaterThan(0);
    for (const [checkpoint, floor] of caughtUpFrom) expect(checkpoint).toBeLessThan(floor as number);
    // Its own copies of the timers come due a second after it applied their events: it finds them
    // on record as fired by the first process, fires them where that one did, and sends nothing.
    const unsettled = () => {
      const db = new Database(b.project.sqlitePath, { readonly: true });
      try {
        return db
          .prepare(
            "SELECT (SELECT count(*) FROM prosa_timers WHERE saga = 'decommission' AND status = 'pending') + (SELECT count(*) FROM prosa_outbox WHERE published_at IS NULL)",
          )
          .pluck()
          .get() as number;
      } finally {
        db.close();
      }
    };
    await waitForAsync('its timers fired and its outbox settled', async () => unsettled() === 0, 30_000, 100);
    expect(await commandCount()).toBe(cleanFirst.size); // nothing sent again

    await publishAll(js, late, 100);
    await waitForAsync('the late commands', async () => (await commandCount()) >= cleanAll.size, 30_000, 100);
    await sleep(500);
    const ids = (await readCommands(js, jsm)).map((c) => c.command_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(cleanAll);
  });
});
