import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { createRuntime, type Runtime } from '../../src/runtime/runtime.js';
import { cliProject, runCli, spawnCli } from '../support/cliHarness.js';
import { ledger } from '../support/fixtures/ledger.js';
import { startNatsServer, type TestNatsServer } from '../support/natsServer.js';
import { tempDir } from '../support/runtimeHarness.js';
import { waitFor } from '../support/waitFor.js';

/** A port free a moment ago. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const SERVING = /serving (http:\/\/127\.0\.0\.1:\d+)\/healthz and /;

describe('the HTTP port of a worker', () => {
  let server: TestNatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(() => server.cleanup());

  describe('when http.port is 0', () => {
    const dirs: string[] = [];
    const runtimes: Runtime[] = [];
    afterEach(async () => {
      await Promise.all(runtimes.splice(0).map((r) => r.drain()));
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    });

    /** A ledger runtime with its own database and durable consumer, logging into `lines`. */
    const runtimeNamed = (consumer: string) => {
      const dir = tempDir('prosa-port-');
      dirs.push(dir);
      const lines: { msg: string; url?: string }[] = [];
      const log = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
      const config = resolveConfig(
        {
          nats: { url: server.url },
          dataDir: dir,
          sqlite: { path: join(dir, 'prosa.db') },
          streams: { LEDGER: { mode: 'managed', subjects: ['ledger.>'] } },
          projections: [ledger],
          workers: { ledger: { consumer } },
          http: { port: 0 },
        },
        { env: {} },
      );
      const runtime = createRuntime(config, { log });
      runtimes.push(runtime);
      return { runtime, lines };
    };

    it('picks a free port and logs the URL, where /healthz answers', async () => {
      const { runtime, lines } = runtimeNamed('ledger_port0');
      await runtime.start();
      const logged = lines.map((l) => SERVING.exec(l.msg)?.[1]).find(Boolean);
      expect(logged).toBe(runtime.http?.url);
      expect(runtime.http?.port).toBeGreaterThan(0);
      await waitFor('healthy', () => runtime.health().ok, 10_000);
      const res = await fetch(`${logged}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
    });

    it('lets two runtimes run side by side, each on its own port', async () => {
      const one = runtimeNamed('ledger_one');
      const two = runtimeNamed('ledger_two');
      await Promise.all([one.runtime.start(), two.runtime.start()]);
      expect(one.runtime.http?.port).not.toBe(two.runtime.http?.port);
      for (const { runtime } of [one, two]) {
        await waitFor('healthy', () => runtime.health().ok, 10_000);
        expect((await fetch(`${runtime.http?.url}/healthz`)).status).toBe(200);
        expect((await fetch(`${runtime.http?.url}/metrics`)).status).toBe(200);
      }
    });
  });

  describe('when two prosa run share a machine', () => {
    const imports = { ledger: 'test/support/fixtures/ledgerDefault.ts' };
    const project = (consumer: string) =>
      cliProject(
        server.url,
        `{
  streams: { LEDGER: { mode: 'managed', subjects: ['ledger.>'] } },
  projections: [ledger],
  workers: { ledger: { consumer: '${consumer}' } },
}`,
        imports,
      );
    const children: ChildProcess[] = [];
    afterAll(() => {
      for (const c of children) c.kill('SIGKILL');
    });

    /** `prosa run` with PROSA_HTTP_PORT; resolves the URL it logged. */
    const run = async (consumer: string, port: number) => {
      const child = spawnCli(project(consumer), ['run'], {
        PROSA_HTTP_PORT: String(port),
        LOG_LEVEL: 'info',
      });
      children.push(child);
      let out = '';
      child.stdout?.on('data', (b: Buffer) => {
        out += b.toString();
      });
      await waitFor('the URL in the log', () => SERVING.test(out), 30_000);
      await waitFor('running', () => out.includes('"msg":"running"'), 30_000);
      return SERVING.exec(out)?.[1] as string;
    };

    it('PROSA_HTTP_PORT gives each its port (0 picks one); a port taken still fails clearly', async () => {
      const port = await freePort();
      const first = await run('ledger_first', port);
      expect(first).toBe(`http://127.0.0.1:${port}`);
      const second = await run('ledger_second', 0);
      expect(second).not.toBe(first);
      for (const url of [first, second]) {
        const res = await fetch(`${url}/healthz`);
        expect(res.status).toBe(200);
      }

      const taken = project('ledger_third');
      const third = await runCli({ ...taken, env: { ...taken.env, PROSA_HTTP_PORT: String(port) } }, ['run']);
      expect(third.code).toBe(1);
      expect(third.err).toContain(
        `cannot serve /healthz and /metrics on 127.0.0.1:${port}: the port is in use (another prosa run or another program listens there); set http.port in runtime.config.ts (or PROSA_HTTP_PORT) to a free port (0 picks one)`,
      );
    });
  });
});
