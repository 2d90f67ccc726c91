import { Agent, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ProsaError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import type { RuntimeStatus, WorkerStatus } from '../../src/ops/status.js';
import {
  type Health,
  type HttpServer,
  type HttpServerOptions,
  startHttpServer,
} from '../../src/serve/httpServer.js';
import { createMetrics } from '../../src/serve/metrics.js';

const ledger = (checkpoint: number): WorkerStatus => ({
  name: 'ledger',
  kind: 'projection',
  stream: 'LEDGER',
  consumer: 'ledger',
  checkpoint,
  streamLastSeq: 10,
  lag: 10 - checkpoint,
  deadLettered: 1,
  waiting: 0,
  liveActors: 2,
  state: 'running',
  eventsPerSecond: 0,
  gaps: [],
});

const atCheckpoint = (checkpoint: number): RuntimeStatus => ({
  projections: [ledger(checkpoint)],
  sagas: [],
});
const never = () => new Promise<never>(() => {});

describe('http server', () => {
  const started: HttpServer[] = [];
  const start = async (over: Partial<HttpServerOptions> = {}) => {
    const server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      metrics: createMetrics(),
      status: async () => atCheckpoint(10),
      health: () => ({ ok: true }),
      log: silentLogger(),
      ...over,
    });
    started.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()));
  });

  describe('when started on port 0', () => {
    it('listens on a free port on the host and says where', async () => {
      const server = await start();
      expect(server.port).toBeGreaterThan(0);
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    });
  });

  describe('/healthz', () => {
    describe('when the runtime is healthy', () => {
      it('answers 200 {"status":"ok"}', async () => {
        const server = await start();
        const res = await fetch(`${server.url}/healthz`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(await res.json()).toEqual({ status: 'ok' });
      });
    });

    describe('when the runtime is not healthy', () => {
      it('answers 503 with the reason', async () => {
        let health: Health = { ok: true };
        const server = await start({ health: () => health });
        health = { ok: false, reason: 'NATS disconnected from 127.0.0.1:4222' };
        const res = await fetch(`${server.url}/healthz`);
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual({
          status: 'unavailable',
          reason: 'NATS disconnected from 127.0.0.1:4222',
        });
      });
    });

    describe('when the health check itself throws', () => {
      it('answers 503 with what it threw', async () => {
        const server = await start({
          health: () => {
            throw new Error('runtime not started');
          },
        });
        const res = await fetch(`${server.url}/healthz`);
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual({
          status: 'unavailable',
          reason: 'health check failed: runtime not started',
        });
      });
    });

    describe('when asked with a query string', () => {
      it('answers as without one', async () => {
        const server = await start();
        expect((await fetch(`${server.url}/healthz?verbose=1`)).status).toBe(200);
      });
    });
  });

  describe('/metrics', () => {
    describe('when scraped', () => {
      it('answers the Prometheus text format with gauges refreshed from status', async () => {
        const server = await start();
        const res = await fetch(`${server.url}/metrics`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
        const text = await res.text();
        expect(text).toContain('# TYPE prosa_events_applied_total counter');
        expect(text).toContain('prosa_events_applied_total{worker="ledger",kind="projection"} 0');
        expect(text).toContain('prosa_checkpoint_sequence{worker="ledger",kind="projection"} 10');
        expect(text).toContain('prosa_lag_messages{worker="ledger",kind="projection"} 0');
        expect(text).toContain('prosa_dead_letters{worker="ledger",kind="projection"} 1');
        expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
      });

      it('shows the batches the worker reported', async () => {
        const metrics = createMetrics();
        const server = await start({ metrics });
        metrics.batchCommitted('ledger', 'projection', 42, 1, 0.003);
        const text = await (await fetch(`${server.url}/metrics`)).text();
        expect(text).toContain('prosa_events_applied_total{worker="ledger",kind="projection"} 42');
        expect(text).toContain(
          'prosa_batch_commit_duration_seconds_bucket{le="0.005",worker="ledger",kind="projection"} 1',
        );
      });
    });

    describe('when status takes longer than the bound', () => {
      it('serves the gauges as they were, within the bound', async () => {
        let slow = false;
        const server = await start({
          status: () => (slow ? never() : Promise.resolve(atCheckpoint(4))),
          statusTimeoutMs: 200,
        });
        await fetch(`${server.url}/metrics`);
        slow = true;
        const t = performance.now();
        const res = await fetch(`${server.url}/metrics`);
        const text = await res.text();
        expect(res.status).toBe(200);
        expect(performance.now() - t).toBeLessThan(1_500);
        expect(text).toContain('prosa_checkpoint_sequence{worker="ledger",kind="projection"} 4');
      });

      it('shares one status call between overlapping scrapes', async () => {
        let calls = 0;
        const server = await start({
          status: () => {
            calls++;
            return never();
          },
          statusTimeoutMs: 100,
        });
        await Promise.all([1, 2, 3].map(() => fetch(`${server.url}/metrics`).then((r) => r.text())));
        expect(calls).toBe(1);
      });
    });

    describe('when status fails', () => {
      it('still answers 200 with the gauges as they were', async () => {
        let fail = false;
        const server = await start({
          status: async () => {
            if (fail) throw new Error('SQLite is busy');
            return atCheckpoint(7);
          },
        });
        await fetch(`${server.url}/metrics`);
        fail = true;
        const res = await fetch(`${server.url}/metrics`);
        expect(res.status).toBe(200);
        expect(await res.text()).toContain('prosa_checkpoint_sequence{worker="ledger",kind="projection"} 7');
      });
    });
  });

  describe('any other path', () => {
    it('answers 404 naming the two endpoints', async () => {
      const server = await start();
      const res = await fetch(`${server.url}/`);
      expect(res.status).toBe(404);
      expect(await res.text()).toBe('not found: prosa serves GET /healthz and GET /metrics\n');
      expect((await fetch(`${server.url}/metrics/extra`)).status).toBe(404);
    });
  });

  describe('another method on an endpoint', () => {
    it('answers 405 with the methods allowed', async () => {
      const server = await start();
      const res = await fetch(`${server.url}/metrics`, { method: 'POST' });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    });
  });

  describe('when the port is in use', () => {
    it('fails to start with a ProsaError naming host:port and http.port', async () => {
      const first = await start();
      const error = await start({ port: first.port }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProsaError);
      expect(error).toMatchObject({ code: 'PROSA_CONFIG_INVALID', cause: { code: 'EADDRINUSE' } });
      expect((error as Error).message).toBe(
        `cannot serve /healthz and /metrics on 127.0.0.1:${first.port}: the port is in use (another prosa run or another program listens there); set http.port in runtime.config.ts (or PROSA_HTTP_PORT) to a free port (0 picks one), or set http.enabled: false to serve nothing`,
      );
    });
  });

  describe('when the host is not an address of this machine', () => {
    it('fails to start with a ProsaError naming http.host', async () => {
      // 192.0.2.0/24 is TEST-NET-1: never assigned to a local interface.
      const error = await start({ host: '192.0.2.1' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProsaError);
      expect((error as Error).message).toMatch(
        /^cannot serve \/healthz and \/metrics on 192\.0\.2\.1:0: 192\.0\.2\.1 is not an address of this machine; set http\.host/,
      );
    });
  });

  describe('when closed while a scraper keeps its connection alive', () => {
    it('closes at once and frees the port', async () => {
      const server = await start();
      // A keep-alive connection left idle, as Prometheus leaves it between scrapes.
      await new Promise<void>((resolve, reject) => {
        const req = request(`${server.url}/metrics`, { agent: new Agent({ keepAlive: true }) });
        req.on('response', (res) => res.resume().on('end', resolve));
        req.on('error', reject);
        req.end();
      });
      const t = performance.now();
      await server.close();
      expect(performance.now() - t).toBeLessThan(1_000);
      const again = await start({ port: server.port });
      expect(again.port).toBe(server.port);
    });
  });
});
