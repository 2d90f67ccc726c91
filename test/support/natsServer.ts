/**
 * A real nats-server per test file: ephemeral port, temporary JetStream store, and the means to stop,
 * kill -9 and restart it on the same port and store. Always cleaned up.
 *
 *   const server = await startNatsServer();
 *   afterAll(() => server.cleanup());
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JetStreamManager } from '@nats-io/jetstream';
import { resolveNatsServerBinary } from '../../src/nats/natsServerBinary.js';
import { type NatsServerProcess, spawnNatsServer } from '../../src/nats/natsServerProcess.js';

export interface TestNatsServerOptions {
  user?: string;
  password?: string;
  token?: string;
  args?: string[];
}

export interface TestNatsServer {
  /** nats://127.0.0.1:PORT (the same across restarts). */
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** The running process (changes on restart). */
  readonly process: NatsServerProcess;
  /** Graceful stop (SIGTERM). */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Start again on the same port and store (stopping first if it still runs). */
  restart(): Promise<void>;
  /** Kill the server and remove its store. */
  cleanup(): Promise<void>;
}

const live = new Set<TestNatsServer>();
process.once('exit', () => {
  for (const s of live) s.process.child.kill('SIGKILL');
});

export async function startNatsServer(options: TestNatsServerOptions = {}): Promise<TestNatsServer> {
  const root = mkdtempSync(join(tmpdir(), 'prosa-nats-'));
  const storeDir = join(root, 'jetstream');
  let proc = await spawnNatsServer({ storeDir, ...options });
  const port = proc.port;
  const server: TestNatsServer = {
    url: proc.url,
    port,
    storeDir,
    get process() {
      return proc;
    },
    stop: () => proc.stop(),
    kill: () => proc.kill(),
    async restart() {
      await proc.stop();
      // The port can linger for a moment after a kill; retry briefly.
      for (let attempt = 0; ; attempt++) {
        try {
          proc = await spawnNatsServer({ storeDir, port, ...options });
          return;
        } catch (e) {
          if (attempt >= 20) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    async cleanup() {
      await proc.kill();
      live.delete(server);
      rmSync(root, { recursive: true, force: true });
    },
  };
  live.add(server);
  return server;
}

/** Waits (up to `timeoutMs`) until `stream` exists: a worker creates it, or a restarted server is back. */
export async function waitForStream(
  jsm: JetStreamManager,
  stream: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await jsm.streams.info(stream).then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`stream ${stream} did not appear within ${timeoutMs} ms`);
}

/** A nats-server without JetStream (the harness's always has it), for the checks that need one. */
export async function startServerWithoutJetStream(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(resolveNatsServerBinary(), ['-a', '127.0.0.1', '-p', '-1'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (b: Buffer) => {
      log += b.toString();
      const port = /Listening for client connections on [^\s]*:(\d+)/.exec(log)?.[1];
      if (port && log.includes('Server is ready')) resolve(`nats://127.0.0.1:${port}`);
    });
    child.once('exit', () => reject(new Error(log)));
  });
  return { url, stop: () => child.kill('SIGKILL') };
}

/** A TCP port that accepts connections and never answers: a NATS URL whose connect times out. */
export async function startSilentServer(): Promise<{
  url: string;
  /** How many client sockets it holds open. */
  connections: () => Promise<number>;
  close: () => Promise<void>;
}> {
  const silent = createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  return {
    url: `nats://127.0.0.1:${(silent.address() as { port: number }).port}`,
    connections: () => new Promise<number>((r) => silent.getConnections((_e, n) => r(n))),
    close: () => new Promise<void>((r) => silent.close(() => r())),
  };
}
