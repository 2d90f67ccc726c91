import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ProsaError } from '../../src/errors.js';
import { connectNats } from '../../src/nats/connection.js';
import {
  type EmbeddedServer,
  embeddedServerPids,
  findEmbeddedUrl,
  isProcessAlive,
  readEmbeddedRecord,
  startEmbeddedServer,
} from '../../src/nats/embeddedServer.js';
import { waitFor } from '../support/waitFor.js';

const root = mkdtempSync(join(tmpdir(), 'prosa-embedded-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dataDirs: string[] = [];
const freshDataDir = () => {
  const dir = join(root, `data-${++n}`);
  dataDirs.push(dir);
  return dir;
};

function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

const started: EmbeddedServer[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.stop();
  for (const c of children.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM'); // its hooks stop its server
    await gone;
  }
  // What a test left behind on purpose (an orphan of a killed owner) must not outlive it.
  for (const dir of dataDirs) for (const pid of embeddedServerPids(dir)) process.kill(pid, 'SIGKILL');
  await waitFor('no stray nats-server', () => dataDirs.every((dir) => embeddedServerPids(dir).length === 0));
});

async function start(dataDir: string, log?: pino.Logger): Promise<EmbeddedServer> {
  const s = await startEmbeddedServer({ dataDir, ...(log ? { log } : {}) });
  started.push(s);
  return s;
}

/**
 * Another prosa process that starts the embedded server for `dataDir` and then, by `mode`: keeps
 * running; exits through process.exit; dies of an uncaught exception; or handles SIGINT itself
 * (as the runtime does, to drain) and reports whether NATS was still up when its handler ran.
 */
type OwnerMode = 'run' | 'exit' | 'throw' | 'drain-on-sigint';
const SCRIPT = join(root, 'owner.mts');
writeFileSync(
  SCRIPT,
  `import { startEmbeddedServer } from ${JSON.stringify(pathToFileURL(resolve('src/nats/embeddedServer.ts')).href)};
import { connectNats } from ${JSON.stringify(pathToFileURL(resolve('src/nats/connection.ts')).href)};
const [dataDir, mode] = process.argv.slice(2);
const server = await startEmbeddedServer({ dataDir });
process.stdout.write(JSON.stringify({ url: server.url, pid: server.pid }) + '\\n');
if (mode === 'exit') process.exit(0);
if (mode === 'throw') setTimeout(() => { throw new Error('boom'); }, 10);
if (mode === 'drain-on-sigint') {
  process.on('SIGINT', async () => {
    let up = false;
    try { const nc = await connectNats({ url: server.url, connectTimeout: 1000 }); up = true; await nc.close(); } catch {}
    process.stdout.write(JSON.stringify({ natsUpWhileDraining: up }) + '\\n');
    await server.stop();
    process.exit(0);
  });
}
setInterval(() => {}, 1000);
`,
);

async function owner(dataDir: string, mode: OwnerMode) {
  // Own process group, like a prosa started from a shell, so a group signal reaches it and its children only.
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, dataDir, mode], {
    cwd: resolve('.'),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  let err = '';
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  let buffered = '';
  child.stdout?.on('data', (b: Buffer) => {
    buffered += b.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const p of parts) lines.push(JSON.parse(p));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  await waitFor(
    `the owner process to start its server (${err})`,
    () => lines.length > 0 || child.exitCode !== null,
    20_000,
  );
  const first = lines[0] as { url: string; pid: number } | undefined;
  if (!first) throw new Error(`owner process failed: ${err}`);
  return { child, url: first.url, serverPid: first.pid, lines, exited };
}

/** A pid that belonged to a process that has exited. */
const deadPid = () => {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
};

describe('embedded nats-server', () => {
  describe('when started on an empty data folder', () => {
    it('records a live URL in nats.json, serves JetStream on loopback with its store under <dataDir>/nats', async () => {
      const dataDir = freshDataDir();
      const server = await start(dataDir);
      expect(server.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      const record = readEmbeddedRecord(dataDir);
      expect(record).toMatchObject({
        url: server.url,
        port: server.port,
        pid: server.pid,
        ownerPid: process.pid,
        storeDir: join(dataDir, 'nats'),
      });
      expect(Number.isNaN(Date.parse(record?.startedAt ?? ''))).toBe(false);
      expect(JSON.parse(readFileSync(join(dataDir, 'nats.json'), 'utf8')).url).toBe(server.url);
      expect(findEmbeddedUrl(dataDir)).toBe(server.url);
      expect(existsSync(join(dataDir, 'nats', 'jetstream'))).toBe(true);

      const nc = await connectNats({ url: server.url });
      expect(nc.info?.jetstream).toBe(true);
      await nc.close();
    });

    it('stops on stop(): the record is removed and the process is gone', async () => {
      const dataDir = freshDataDir();
      const server = await startEmbeddedServer({ dataDir });
      await server.stop();
      expect(existsSync(join(dataDir, 'nats.json'))).toBe(false);
      expect(isProcessAlive(server.pid)).toBe(false);
      expect(findEmbeddedUrl(dataDir)).toBeUndefined();
      expect(embeddedServerPids(dataDir)).toEqual([]);
      await server.stop(); // idempotent
    });
  });

  describe('when started again after a clean stop', () => {
    it('listens on the same port as before, so clients find it where it was', async () => {
      const dataDir = freshDataDir();
      const first = await startEmbeddedServer({ dataDir });
      await first.stop();
      const second = await start(dataDir);
      expect(second.pid).not.toBe(first.pid);
      expect(second.url).toBe(first.url);
    });
  });

  describe('when a stale record names a process that is gone', () => {
    it('replaces the record and reuses its port when free', async () => {
      const dataDir = freshDataDir();
      const probe = await startEmbeddedServer({ dataDir });
      const port = probe.port;
      await probe.stop();
      const dead = deadPid();
      writeFileSync(
        join(dataDir, 'nats.json'),
        JSON.stringify({
          url: `nats://127.0.0.1:${port}`,
          port,
          pid: dead,
          startedAt: '2020-01-01T00:00:00Z',
          ownerPid: dead,
        }),
      );
      expect(findEmbeddedUrl(dataDir)).toBeUndefined();
      const { log, lines } = capturingLogger();
      const server = await start(dataDir, log);
      expect(server.port).toBe(port);
      expect(readEmbeddedRecord(dataDir)?.pid).toBe(server.pid);
      expect(
        lines.some(
          (l) => l.msg === `removing the record of an embedded nats-server that is gone (pid ${dead})`,
        ),
      ).toBe(true);
    });
  });

  describe('when the record is not JSON', () => {
    it('starts anyway, writes a good one, and leaves the server of another data folder alone', async () => {
      const dataDir = freshDataDir();
      const neighbour = await start(freshDataDir());
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, 'nats.json'), '{ half a record');
      const server = await start(dataDir);
      expect(readEmbeddedRecord(dataDir)?.pid).toBe(server.pid);
      // The embedded server of another data folder is not a stray of this one.
      expect(isProcessAlive(neighbour.pid)).toBe(true);
    });
  });

  describe('when the prosa that started it was killed with -9, leaving its server running', () => {
    it('replaces the leftover server (same port), leaving no stray nats-server', async () => {
      const dataDir = freshDataDir();
      const crashed = await owner(dataDir, 'run');
      crashed.child.kill('SIGKILL');
      await crashed.exited;
      // The orphan keeps serving: nothing can stop it from a killed process.
      expect(isProcessAlive(crashed.serverPid)).toBe(true);
      expect(findEmbeddedUrl(dataDir)).toBe(crashed.url);

      const { log, lines } = capturingLogger();
      const server = await start(dataDir, log);
      expect(isProcessAlive(crashed.serverPid)).toBe(false);
      expect(server.url).toBe(crashed.url);
      expect(embeddedServerPids(dataDir)).toEqual([server.pid]);
      expect(lines.find((l) => l.level === 40)?.msg).toBe(
        `replacing a stale embedded nats-server (pid ${crashed.serverPid}): the prosa process that started it (pid ${crashed.child.pid}) is gone`,
      );
    });
  });

  describe('when the prosa that started it lives but its server does not answer where recorded', () => {
    it('replaces that server', async () => {
      const dataDir = freshDataDir();
      const other = await owner(dataDir, 'run');
      // Nothing answers on the recorded port any more, as with a hung server. (SIGSTOP does not
      // make a reliable hang: the kernel continues a stopped process of an orphaned process group.)
      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const deadPort = (closed.address() as { port: number }).port;
      await new Promise<void>((r) => closed.close(() => r()));
      const record = JSON.parse(readFileSync(join(dataDir, 'nats.json'), 'utf8'));
      writeFileSync(
        join(dataDir, 'nats.json'),
        JSON.stringify({ ...record, port: deadPort, url: `nats://127.0.0.1:${deadPort}` }),
      );

      const { log, lines } = capturingLogger();
      const server = await start(dataDir, log);
      expect(isProcessAlive(other.serverPid)).toBe(false);
      expect(embeddedServerPids(dataDir)).toEqual([server.pid]);
      expect(lines.find((l) => l.level === 40)?.msg).toBe(
        `replacing a stale embedded nats-server (pid ${other.serverPid}): it does not answer`,
      );
    });
  });

  describe('when the port of the previous run is taken by something else', () => {
    it('starts on another port', async () => {
      const dataDir = freshDataDir();
      const first = await startEmbeddedServer({ dataDir });
      await first.stop();
      const squatter = createServer();
      await new Promise<void>((r) => squatter.listen(first.port, '127.0.0.1', r));
      try {
        const server = await start(dataDir);
        expect(server.port).not.toBe(first.port);
        expect(readEmbeddedRecord(dataDir)?.url).toBe(server.url);
      } finally {
        await new Promise<void>((r) => squatter.close(() => r()));
      }
    });
  });

  describe('when a server of this data folder runs without any record', () => {
    it('stops the stray before starting', async () => {
      const dataDir = freshDataDir();
      const crashed = await owner(dataDir, 'run');
      crashed.child.kill('SIGKILL');
      await crashed.exited;
      rmSync(join(dataDir, 'nats.json'));
      const server = await start(dataDir);
      expect(isProcessAlive(crashed.serverPid)).toBe(false);
      expect(embeddedServerPids(dataDir)).toEqual([server.pid]);
    });
  });

  describe('when another live prosa runs the server of this data folder', () => {
    it('refuses to start a second with PROSA_EMBEDDED_START_FAILED, and other terminals find the running one', async () => {
      const dataDir = freshDataDir();
      const other = await owner(dataDir, 'run');
      expect(findEmbeddedUrl(dataDir)).toBe(other.url);
      const error = await startEmbeddedServer({ dataDir }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ProsaError);
      expect((error as ProsaError).code).toBe('PROSA_EMBEDDED_START_FAILED');
      expect((error as ProsaError).message).toContain(
        `another prosa process (pid ${other.child.pid}) runs the embedded nats-server for ${dataDir} at ${other.url}`,
      );
      expect((error as ProsaError).message).toContain(`NATS_URL=${other.url}`);
      expect(isProcessAlive(other.serverPid)).toBe(true);
    });
  });

  describe('the parent process ending', () => {
    it.each([
      ['SIGTERM', 'run'],
      ['SIGINT', 'run'],
    ] as const)(
      'on %s with no handler of its own: stops the server, removes the record, and dies of the signal',
      async (signal, mode) => {
        const dataDir = freshDataDir();
        const o = await owner(dataDir, mode);
        o.child.kill(signal);
        expect(await o.exited).toEqual({ code: null, signal });
        expect(isProcessAlive(o.serverPid)).toBe(false);
        expect(existsSync(join(dataDir, 'nats.json'))).toBe(false);
      },
    );

    it.each(['exit', 'throw'] as const)(
      'through %s: the server is stopped and the record removed',
      async (mode) => {
        const dataDir = freshDataDir();
        const o = await owner(dataDir, mode);
        await o.exited;
        await waitFor('the server to stop', () => !isProcessAlive(o.serverPid));
        expect(existsSync(join(dataDir, 'nats.json'))).toBe(false);
      },
    );

    it('on Ctrl-C (SIGINT to the whole process group) NATS stays up while the application drains', async () => {
      const dataDir = freshDataDir();
      const o = await owner(dataDir, 'drain-on-sigint');
      process.kill(-(o.child.pid as number), 'SIGINT');
      expect(await o.exited).toEqual({ code: 0, signal: null });
      expect(o.lines[1]).toEqual({ natsUpWhileDraining: true });
      expect(isProcessAlive(o.serverPid)).toBe(false);
      expect(existsSync(join(dataDir, 'nats.json'))).toBe(false);
    });
  });
});
