import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProsaConfigInput, type ResolvedConfig, resolveConfig } from '../../src/config/config.js';
import { connectNats } from '../../src/nats/connection.js';
import { startEmbeddedServer } from '../../src/nats/embeddedServer.js';
import { applyStreams } from '../../src/nats/streams.js';
import { type DoctorCheck, formatDoctor, runDoctor } from '../../src/ops/doctor.js';
import { startNatsServer, startServerWithoutJetStream, type TestNatsServer } from '../support/natsServer.js';

const root = mkdtempSync(join(tmpdir(), 'prosa-doctor-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A config as runtime.config.ts would give, with its own data folder and no environment. */
const config = (input: ProsaConfigInput = {}): ResolvedConfig =>
  resolveConfig({ dataDir: join(root, `data-${++n}`), ...input }, { env: {}, cwd: root });

const byName = (checks: DoctorCheck[], name: string) => {
  const c = checks.find((x) => x.name === name);
  if (!c) throw new Error(`no check named "${name}" in ${checks.map((x) => x.name).join(', ')}`);
  return c;
};

describe('prosa doctor', () => {
  describe('on a good setup (server up, streams applied, SQLite path writable)', () => {
    let server: TestNatsServer;
    beforeAll(async () => {
      server = await startNatsServer();
    });
    afterAll(() => server.cleanup());

    it('passes every check, one per stream', async () => {
      const c = config({ nats: { url: server.url } });
      const nc = await connectNats({ url: server.url });
      await applyStreams(nc, c.streams);
      await nc.close();

      const checks = await runDoctor(c);
      expect(checks.map((x) => [x.name, x.level])).toEqual([
        ['NATS reachable and authenticated', 'ok'],
        ['JetStream enabled', 'ok'],
        ['server version', 'ok'],
        ['stream INFRASTRUCTURE_EVENTS', 'ok'],
        ['stream DLQ', 'ok'],
        ['stream COMMANDS', 'ok'],
        ['SQLite path writable', 'ok'],
      ]);
      expect(checks.every((x) => x.ok)).toBe(true);
      expect(byName(checks, 'NATS reachable and authenticated').detail).toBe(`${server.url} (NATS_URL)`);
      expect(byName(checks, 'server version').detail).toMatch(/^nats-server 2\.\d+\.\d+/);
      expect(byName(checks, 'stream DLQ').detail).toBe(
        'managed, 0 messages, 0 consumers; matches runtime.config.ts',
      );
      expect(byName(checks, 'SQLite path writable').detail).toBe(
        `${c.sqlitePath} (will be created, with ${c.dataDir})`,
      );
      expect(formatDoctor(checks)).toContain('all 7 checks passed');
    });
  });

  describe('when a configured stream is missing', () => {
    let server: TestNatsServer;
    beforeAll(async () => {
      server = await startNatsServer();
    });
    afterAll(() => server.cleanup());

    it('fails that stream with the fix "prosa streams apply"', async () => {
      const checks = await runDoctor(config({ nats: { url: server.url } }));
      const dlq = byName(checks, 'stream DLQ');
      expect(dlq).toEqual({
        name: 'stream DLQ',
        ok: false,
        level: 'fail',
        detail: 'missing (managed, subjects dlq.>)',
        fix: 'run `prosa streams apply`, or start prosa (`npm start`): it creates the configured streams at start',
      });
      const text = formatDoctor(checks);
      expect(text).toContain('FAIL  stream DLQ');
      expect(text).toContain('fix: run `prosa streams apply`');
      expect(text).toContain('3 failed of 7 checks');
    });

    it('warns about an external stream that differs, and fails a managed one JetStream cannot change in place', async () => {
      const c = config({ nats: { url: server.url } });
      const nc = await connectNats({ url: server.url });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({
        name: 'INFRASTRUCTURE_EVENTS',
        subjects: ['infrastructure.>'],
        max_age: nanos(86_400_000),
      });
      await jsm.streams.add({
        name: 'DLQ',
        subjects: ['dlq.>'],
        storage: 'memory',
        max_age: nanos(7 * 86_400_000),
        duplicate_window: nanos(3_600_000),
      });
      await applyStreams(nc, { COMMANDS: c.streams.COMMANDS! });
      await nc.close();

      const checks = await runDoctor(c);
      const infra = byName(checks, 'stream INFRASTRUCTURE_EVENTS');
      expect(infra.level).toBe('warn');
      expect(infra.ok).toBe(true);
      expect(infra.detail).toBe(
        'external, 0 messages, 0 consumers; differs from runtime.config.ts (left as it is): ' +
          'maxAge: config 365d, stream 1d; maxMsgs: config 1000000, stream -1 (no limit)',
      );
      expect(infra.fix).toContain('nats stream edit INFRASTRUCTURE_EVENTS');
      const dlq = byName(checks, 'stream DLQ');
      expect(dlq.level).toBe('fail');
      expect(dlq.detail).toContain('storage: config "file", stream "memory"');
      expect(dlq.fix).toBe(
        "delete the stream with `nats stream rm DLQ` (its messages are lost; prosa creates it again at start), or set streams.DLQ.mode: 'external'",
      );
      expect(byName(checks, 'stream COMMANDS').level).toBe('ok');
    });
  });

  describe('when the server runs without JetStream', () => {
    let url: string;
    let stop: () => void;
    beforeAll(async () => {
      ({ url, stop } = await startServerWithoutJetStream());
    });
    afterAll(() => stop());

    it('fails the JetStream check with the fix, and skips the stream checks', async () => {
      const checks = await runDoctor(config({ nats: { url } }));
      expect(checks.map((x) => [x.name, x.level])).toEqual([
        ['NATS reachable and authenticated', 'ok'],
        ['JetStream enabled', 'fail'],
        ['server version', 'ok'],
        ['SQLite path writable', 'ok'],
      ]);
      expect(byName(checks, 'JetStream enabled')).toMatchObject({
        detail: `the NATS server at ${url.replace('nats://', '')} runs without JetStream`,
        fix: 'start nats-server with -js (or a jetstream {} block in its config), and enable JetStream for the account',
      });
    });
  });

  describe('when the server cannot be reached', () => {
    it('fails the NATS check naming the URL and the cause, with what to check, and still checks SQLite', async () => {
      const checks = await runDoctor(config({ nats: { url: 'nats://127.0.0.1:1' } }));
      expect(checks.map((x) => x.name)).toEqual(['NATS reachable and authenticated', 'SQLite path writable']);
      expect(checks[0]).toEqual({
        name: 'NATS reachable and authenticated',
        ok: false,
        level: 'fail',
        detail: 'cannot connect to NATS at nats://127.0.0.1:1: connection refused (ECONNREFUSED)',
        fix:
          'Check that nats-server runs and listens there and that NATS_URL (nats.url) is right; ' +
          "unset NATS_URL to use prosa's embedded server instead.",
      });
      expect(checks[1]?.ok).toBe(true);
    });
  });

  describe('when the credentials are wrong', () => {
    let server: TestNatsServer;
    beforeAll(async () => {
      server = await startNatsServer({ token: 'right-token' });
    });
    afterAll(() => server.cleanup());

    it('fails the NATS check saying which credentials to check, never showing the token', async () => {
      const checks = await runDoctor(config({ nats: { url: server.url, token: 'wrong-token' } }));
      expect(checks[0]?.detail).toBe(
        `cannot connect to NATS at ${server.url}: the server refused the credentials (Authorization Violation)`,
      );
      expect(checks[0]?.fix).toBe('Check the credentials: a token (nats.token, NATS_TOKEN).');
      expect(formatDoctor(checks)).not.toContain('wrong-token');
    });
  });

  describe('with no NATS_URL', () => {
    it('fails with the fix "npm start" when no embedded server runs', async () => {
      const checks = await runDoctor(config());
      expect(checks[0]).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/^NATS_URL is not set and no embedded nats-server runs for /),
        fix: 'start prosa (`npm start`), which runs the embedded nats-server, and run doctor again; or set NATS_URL to your server',
      });
    });

    it('finds the embedded server another prosa runs for the same data folder', async () => {
      const c = config();
      const embedded = await startEmbeddedServer({ dataDir: c.dataDir });
      try {
        const checks = await runDoctor(c);
        expect(checks[0]?.detail).toBe(
          `${embedded.url} (the embedded server of ${c.dataDir}, pid ${embedded.pid})`,
        );
        expect(checks[0]?.ok).toBe(true);
      } finally {
        await embedded.stop();
      }
    });
  });

  describe('the SQLite path', () => {
    it('fails when its directory cannot be created (a file is in the way)', async () => {
      const blocker = join(root, 'a-file');
      writeFileSync(blocker, '');
      const checks = await runDoctor(
        config({ nats: { url: 'nats://127.0.0.1:1' }, sqlite: { path: join(blocker, 'db', 'prosa.db') } }),
      );
      expect(byName(checks, 'SQLite path writable')).toMatchObject({
        ok: false,
        detail: `${join(blocker, 'db', 'prosa.db')} cannot be created: ${blocker} is not a directory`,
      });
    });

    it('fails when it is a directory', async () => {
      const checks = await runDoctor(config({ nats: { url: 'nats://127.0.0.1:1' }, sqlite: { path: root } }));
      expect(byName(checks, 'SQLite path writable').detail).toBe(
        `${root} is a directory, not a database file`,
      );
    });
  });
});

describe('formatDoctor', () => {
  it('prints one line per check, the fix under each problem, then a summary', () => {
    const text = formatDoctor([
      {
        name: 'NATS reachable and authenticated',
        ok: true,
        level: 'ok',
        detail: 'nats://127.0.0.1:4222 (NATS_URL)',
      },
      {
        name: 'stream DLQ',
        ok: false,
        level: 'fail',
        detail: 'missing (managed, subjects dlq.>)',
        fix: 'run `prosa streams apply`',
      },
      { name: 'stream INFRA', ok: true, level: 'warn', detail: 'external, differs', fix: 'align the config' },
    ]);
    expect(text).toBe(
      [
        'ok    NATS reachable and authenticated  nats://127.0.0.1:4222 (NATS_URL)',
        'FAIL  stream DLQ                        missing (managed, subjects dlq.>)',
        '                                        fix: run `prosa streams apply`',
        'warn  stream INFRA                      external, differs',
        '                                        fix: align the config',
        '',
        '1 failed, 1 with warnings of 3 checks',
        '',
      ].join('\n'),
    );
  });
});
