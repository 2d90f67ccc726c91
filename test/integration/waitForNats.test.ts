import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ProsaConfigInput, resolveConfig } from '../../src/config/config.js';
import { createRuntime, type Runtime } from '../../src/runtime/runtime.js';
import { cliProject, runCli, spawnCli } from '../support/cliHarness.js';
import { failure } from '../support/failure.js';
import { ledger } from '../support/fixtures/ledger.js';
import {
  startNatsServer,
  startServerWithoutJetStream,
  startSilentServer,
  type TestNatsServer,
} from '../support/natsServer.js';
import { tempDir } from '../support/runtimeHarness.js';
import { waitFor } from '../support/waitFor.js';

/** A pino logger whose lines land in `lines`. */
function capturingLogger() {
  const lines: { level: number; msg: string; url?: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

/** A port nothing listens on (free a moment ago). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const dirs: string[] = [];
const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((r) => r.drain()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A ledger runtime on `url` serving /healthz on a free port, with its own SQLite file. */
function ledgerRuntime(url: string, nats: ProsaConfigInput['nats'] = {}) {
  const dir = tempDir('prosa-wait-');
  dirs.push(dir);
  const sqlitePath = join(dir, 'prosa.db');
  const config = resolveConfig(
    {
      nats: { ...nats, url },
      dataDir: dir,
      sqlite: { path: sqlitePath },
      streams: { LEDGER: { mode: 'managed', subjects: ['ledger.>'] } },
      projections: [ledger],
      defaults: { batch: { maxMessages: 20, maxWaitMs: 20 } },
      http: { port: 0 },
    },
    { env: {} },
  );
  const { log, lines } = capturingLogger();
  const runtime = createRuntime(config, { log });
  runtimes.push(runtime);
  return { runtime, lines, sqlitePath };
}

const healthz = async (runtime: Runtime) => {
  const res = await fetch(`${runtime.http?.url}/healthz`);
  return { status: res.status, body: (await res.json()) as { status: string; reason?: string } };
};

const waiting = (runtime: Runtime) => runtime.health().reason?.startsWith('waiting for NATS at ') === true;

describe('a runtime started while its NATS server is down', () => {
  let server: TestNatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(() => server.cleanup());

  it('waits, answering /healthz 503 "waiting for NATS at <url>", then connects and applies what was published before', async () => {
    const nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'LEDGER', subjects: ['ledger.>'] });
    const js = jetstream(nc);
    for (const e of [
      { type: 'Opened', account: 'a' },
      { type: 'Deposited', account: 'a', amount: 5 },
      { type: 'Deposited', account: 'a', amount: 7 },
    ])
      await js.publish('ledger.a', JSON.stringify(e));
    await nc.close();
    await server.stop();

    const { runtime, lines, sqlitePath } = ledgerRuntime(server.url);
    const started = runtime.start();
    await waitFor('the wait', () => waiting(runtime), 10_000);
    expect(await healthz(runtime)).toEqual({
      status: 503,
      body: { status: 'unavailable', reason: `waiting for NATS at ${server.url}` },
    });
    const warning = lines.find((l) => l.msg.startsWith('waiting for NATS at'));
    expect(warning?.level).toBe(40);
    expect(warning?.msg).toContain(server.url);
    // Several attempts have failed by now (250 ms, 500 ms, 1 s...), but one warning was enough.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(lines.filter((l) => l.msg.startsWith('waiting for NATS at'))).toHaveLength(1);

    await server.restart();
    await started;
    await runtime.caughtUp({ timeoutMs: 20_000 });
    const db = new Database(sqlitePath, { readonly: true });
    try {
      expect(db.prepare("SELECT balance FROM accounts WHERE id = 'a'").pluck().get()).toBe(12);
    } finally {
      db.close();
    }
    await waitFor('healthy', () => runtime.health().ok, 10_000);
    expect((await healthz(runtime)).status).toBe(200);
    expect(lines.some((l) => l.msg.startsWith(`connected to NATS at ${server.url} after waiting`))).toBe(
      true,
    );
  });
});

describe('a drain while the start waits for NATS', () => {
  it('ends the wait at once when nothing listens: drain and start both resolve', async () => {
    const { runtime } = ledgerRuntime(`nats://127.0.0.1:${await deadPort()}`);
    const started = runtime.start();
    await waitFor('the wait', () => waiting(runtime), 10_000);
    const t = Date.now();
    await runtime.drain();
    await started;
    expect(Date.now() - t).toBeLessThan(1_000);
    expect(runtime.health()).toEqual({ ok: false, reason: 'draining' });
  });

  describe('when the port accepts but never answers', () => {
    let url: string;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ url, close } = await startSilentServer());
    });
    afterAll(() => close());

    it('ends the attempt under way too, without waiting for its timeout', async () => {
      const { runtime } = ledgerRuntime(url, { connectTimeout: 3_000 });
      const started = runtime.start();
      await waitFor('the first attempt to time out', () => waiting(runtime), 10_000);
      await new Promise((r) => setTimeout(r, 500)); // the next attempt is under way
      const t = Date.now();
      await runtime.drain();
      await started;
      expect(Date.now() - t).toBeLessThan(1_000);
    });

    it('with nats.waitAtStart: false, fails within the connect timeout', async () => {
      const { runtime } = ledgerRuntime(url, { connectTimeout: 1_000, waitAtStart: false });
      const { error, ms } = await failure(() => runtime.start());
      expect(ms).toBeLessThan(2_500);
      expect(error.code).toBe('PROSA_NATS_UNREACHABLE');
      expect(error.message).toContain(`cannot connect to NATS at ${url}: no answer within 1000 ms`);
    });
  });
});

describe('what waiting cannot heal fails the start at once', () => {
  it('nats.waitAtStart: false on a port nobody listens on: PROSA_NATS_UNREACHABLE', async () => {
    const url = `nats://127.0.0.1:${await deadPort()}`;
    const { runtime } = ledgerRuntime(url, { waitAtStart: false });
    const { error, ms } = await failure(() => runtime.start());
    expect(ms).toBeLessThan(1_000);
    expect(error.code).toBe('PROSA_NATS_UNREACHABLE');
    expect(error.message).toContain(`cannot connect to NATS at ${url}: connection refused`);
  });

  it('a URL that is not one: PROSA_NATS_UNREACHABLE saying what a URL looks like', async () => {
    const { runtime } = ledgerRuntime('nats://127.0.0.1:99999');
    const { error, ms } = await failure(() => runtime.start());
    expect(ms).toBeLessThan(1_000);
    expect(error.code).toBe('PROSA_NATS_UNREACHABLE');
    expect(error.message).toBe(
      'cannot connect to NATS at nats://127.0.0.1:99999: Invalid URL. NATS_URL (nats.url) must be one or more ' +
        'server URLs, comma separated, like nats://host:4222 or tls://host:4222 (a port from 1 to 65535).',
    );
  });

  describe('on a server that requires a token', () => {
    let server: TestNatsServer;
    beforeAll(async () => {
      server = await startNatsServer({ token: 'right-token' });
    });
    afterAll(() => server.cleanup());

    it('wrong credentials: PROSA_NATS_AUTH', async () => {
      const { runtime } = ledgerRuntime(server.url, { token: 'wrong-token' });
      const { error, ms } = await failure(() => runtime.start());
      expect(ms).toBeLessThan(2_000);
      expect(error.code).toBe('PROSA_NATS_AUTH');
      expect(error.message).toContain(
        `cannot connect to NATS at ${server.url}: the server refused the credentials`,
      );
      expect(runtime.health()).toEqual({ ok: false, reason: 'draining' });
    });
  });

  describe('on a server without JetStream', () => {
    let url: string;
    let stop: () => void;
    beforeAll(async () => {
      ({ url, stop } = await startServerWithoutJetStream());
    });
    afterAll(() => stop());

    it('PROSA_JETSTREAM_DISABLED, saying how to turn it on', async () => {
      const { runtime } = ledgerRuntime(url);
      const { error, ms } = await failure(() => runtime.start());
      expect(ms).toBeLessThan(2_000);
      expect(error.code).toBe('PROSA_JETSTREAM_DISABLED');
      expect(error.message).toContain('runs without JetStream; start nats-server with -js');
    });
  });
});

describe('the prosa command on a NATS_URL nobody listens on', () => {
  const config = `{
  streams: { LEDGER: { mode: 'managed', subjects: ['ledger.>'] } },
  projections: [ledger],
  http: { port: 0 },
}`;
  const imports = { ledger: 'test/support/fixtures/ledgerDefault.ts' };

  it('run waits, warning with the URL, and exits 0 at once on SIGTERM', async () => {
    const url = `nats://127.0.0.1:${await deadPort()}`;
    const project = cliProject(url, config, imports);
    const child = spawnCli(project, ['run']);
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor('the warning', () => out.includes(`waiting for NATS at ${url}`), 30_000);
      const t = Date.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - t).toBeLessThan(2_000);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('status and streams ls do not wait: each is done within 5 s', async () => {
    const url = `nats://127.0.0.1:${await deadPort()}`;
    const project = cliProject(url, config, imports);
    let t = Date.now();
    const status = await runCli(project, ['status', '--json']);
    expect(Date.now() - t).toBeLessThan(5_000);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out).projections[0]).toMatchObject({ name: 'ledger', streamLastSeq: null });

    t = Date.now();
    const streams = await runCli(project, ['streams', 'ls']);
    expect(Date.now() - t).toBeLessThan(5_000);
    expect(streams.code).toBe(1);
    expect(streams.err).toContain('PROSA_NATS_UNREACHABLE');
    expect(streams.err).toContain(`cannot connect to NATS at ${url}`);
  });
});
