/**
 * The console's safety rules at the HTTP level, on a real runtime and nats-server: beyond loopback
 * it does not start without a token and then every action needs it (reads too with protectReads);
 * an action needs the console's header and a same-site Origin; a GET changes nothing; on loopback a
 * Host naming another machine (a rebound DNS name) is refused.
 */

import { request } from 'node:http';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProsaError } from '../../src/errors.js';
import type { WorkerStatus } from '../../src/ops/status.js';
import { notes } from '../support/fixtures/notes.js';
import { startNatsServer, type TestNatsServer } from '../support/natsServer.js';
import { createTestRuntime, type TestRuntime } from '../support/runtimeHarness.js';

const TOKEN = 'a-console-token-of-32-characters';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request by node:http, which lets a test set Host and Origin as a hostile page or client would. */
function call(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const config = (http: Record<string, unknown>) => ({
  streams: { NOTES: { mode: 'managed' as const, subjects: ['notes.>'] } },
  projections: [notes],
  http: { port: 0, ...http },
});

describe('console API safety on a real runtime', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.cleanup();
  });

  it('refuses to start beyond loopback without a token, saying how to set one', async () => {
    const t = createTestRuntime(server.url, config({ host: '0.0.0.0' }));
    try {
      const e = await t.runtime.start().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ProsaError);
      expect((e as ProsaError).code).toBe('PROSA_CONFIG_INVALID');
      expect((e as Error).message).toMatch(/beyond loopback, without a token: set PROSA_CONSOLE_TOKEN/);
      expect(t.runtime.http).toBeUndefined();
    } finally {
      await t.cleanup();
    }
  });

  describe('bound to 0.0.0.0 with a token that guards reads too', () => {
    let t: TestRuntime;
    let port: number;
    const auth = { authorization: `Bearer ${TOKEN}` };
    const action = { ...auth, 'x-prosa-console': '1', 'content-type': 'application/json' };
    const state = async () =>
      ((await t.runtime.status()).projections.find((w) => w.name === 'notes') as WorkerStatus).state;

    beforeAll(async () => {
      t = createTestRuntime(
        server.url,
        config({ host: '0.0.0.0', console: { token: TOKEN, protectReads: true } }),
      );
      await t.runtime.start();
      port = t.runtime.http?.port as number;
      await jetstream(nc).publish('notes.a', JSON.stringify({ type: 'Noted', id: 'a', text: 'hi' }));
      await t.runtime.caughtUp({ timeoutMs: 30_000 });
    });
    afterAll(async () => {
      await t?.cleanup();
    });

    it('serves the page itself to anyone, with a policy that runs only its own scripts', async () => {
      const page = await call(port, 'GET', '/');
      expect(page.status).toBe(200);
      expect(page.body).toContain('<title>prosa console</title>');
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
      // What the page needs to know before it asks for the token; it holds no data.
      const session = await call(port, 'GET', '/api/session');
      expect(JSON.parse(session.body)).toEqual({ tokenRequired: true, protectReads: true });
    });

    it('answers reads only with the token', async () => {
      expect((await call(port, 'GET', '/api/status')).status).toBe(401);
      expect(
        (await call(port, 'GET', '/api/status', { authorization: 'Bearer wrong-token-wrong-token' })).status,
      ).toBe(401);
      const ok = await call(port, 'GET', '/api/status', auth);
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body).projections[0]).toMatchObject({ name: 'notes', checkpoint: 1 });
    });

    it('refuses an action without the token, with a wrong one, without its header, or from another site', async () => {
      const pause = '/api/workers/notes/pause';
      const { authorization: _, ...noToken } = action;
      expect((await call(port, 'POST', pause, noToken, '{}')).status).toBe(401);
      expect(
        (await call(port, 'POST', pause, { ...action, authorization: 'Bearer nope-nope-nope-nope' }, '{}'))
          .status,
      ).toBe(401);
      const { 'x-prosa-console': __, ...noHeader } = action;
      expect((await call(port, 'POST', pause, noHeader, '{}')).status).toBe(403);
      const crossSite = await call(port, 'POST', pause, { ...action, origin: 'http://evil.example' }, '{}');
      expect(crossSite.status).toBe(403);
      expect(JSON.parse(crossSite.body).error).toMatch(/cross-site/);
      expect(await state()).toBe('running');
    });

    it('never changes state by GET', async () => {
      for (const path of [
        '/api/workers/notes/pause',
        '/api/rebuilds/notes',
        '/api/dead-letters/notes/1/skip',
      ]) {
        const r = await call(port, 'GET', path, auth);
        expect(r.status).toBe(404);
      }
      expect((await call(port, 'PUT', '/api/workers/notes/pause', action, '{}')).status).toBe(405);
      expect(await state()).toBe('running');
      expect(JSON.parse((await call(port, 'GET', '/api/rebuilds', auth)).body)).toEqual([]);
    });

    it('acts with the token, its header and a same-site Origin, and says what it did', async () => {
      const origin = { origin: `http://127.0.0.1:${port}` };
      const paused = await call(port, 'POST', '/api/workers/notes/pause', { ...action, ...origin }, '{}');
      expect(paused.status).toBe(200);
      expect(JSON.parse(paused.body)).toEqual({ worker: 'notes', via: 'running worker', detail: 'paused' });
      expect(await state()).toBe('paused');
      const resumed = await call(port, 'POST', '/api/workers/notes/resume', action);
      expect(JSON.parse(resumed.body)).toEqual({ worker: 'notes', via: 'running worker', detail: 'resumed' });
      expect(await state()).toBe('running');
    });

    it('answers bad input with a 4xx that says why', async () => {
      const notJson = await call(port, 'POST', '/api/workers/notes/pause', action, '{oops');
      expect(notJson.status).toBe(400);
      expect(JSON.parse(notJson.body).error).toBe('request body is not JSON');
      const unknown = await call(port, 'POST', '/api/workers/nobody/pause', action, '{}');
      expect(unknown.status).toBe(404);
      expect(JSON.parse(unknown.body)).toMatchObject({ code: 'PROSA_NOT_FOUND' });
      expect((await call(port, 'POST', '/api/dead-letters/notes/x/retry', action)).status).toBe(400);
      expect((await call(port, 'GET', '/console/../package.json', auth)).status).toBe(404);
    });
  });

  describe('on loopback without a token', () => {
    let t: TestRuntime;
    let port: number;

    beforeAll(async () => {
      t = createTestRuntime(server.url, config({ host: '127.0.0.1' }));
      await t.runtime.start();
      port = t.runtime.http?.port as number;
    });
    afterAll(async () => {
      await t?.cleanup();
    });

    it('reads and acts for a page of its own', async () => {
      expect(JSON.parse((await call(port, 'GET', '/api/session')).body)).toEqual({
        tokenRequired: false,
        protectReads: false,
      });
      const headers = {
        'x-prosa-console': '1',
        origin: `http://localhost:${port}`,
        host: `localhost:${port}`,
      };
      expect((await call(port, 'POST', '/api/workers/notes/pause', headers)).status).toBe(200);
      expect((await call(port, 'POST', '/api/workers/notes/resume', headers)).status).toBe(200);
    });

    it('refuses a Host that names another machine (a DNS name rebound to 127.0.0.1)', async () => {
      const host = { host: `evil.example:${port}` };
      expect((await call(port, 'GET', '/api/status', host)).status).toBe(403);
      const act = { ...host, 'x-prosa-console': '1', origin: `http://evil.example:${port}` };
      expect((await call(port, 'POST', '/api/workers/notes/pause', act)).status).toBe(403);
    });
  });
});
