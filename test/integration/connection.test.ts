import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProsaError } from '../../src/errors.js';
import {
  connectNats,
  redactUrl,
  requireJetStream,
  requireServerVersion,
  serverVersion,
} from '../../src/nats/connection.js';
import { failure } from '../support/failure.js';
import { startNatsServer, startSilentServer, type TestNatsServer } from '../support/natsServer.js';
import { waitFor } from '../support/waitFor.js';

/** A pino logger whose lines land in `lines`. */
function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

describe('connectNats', () => {
  describe('on a server that requires a user and password', () => {
    let server: TestNatsServer;
    beforeAll(async () => {
      server = await startNatsServer({ user: 'alice', password: 'correct-horse' });
    });
    afterAll(() => server.cleanup());

    it('connects with the right credentials', async () => {
      const nc = await connectNats({
        url: server.url,
        user: 'alice',
        password: 'correct-horse',
        name: 'prosa-test',
      });
      expect(nc.info?.jetstream).toBe(true);
      await nc.close();
    });

    it('fails fast with PROSA_NATS_AUTH naming the URL and the settings to check, never the password', async () => {
      const { error, ms } = await failure(() =>
        connectNats({ url: server.url, user: 'alice', password: 'wrong-battery' }),
      );
      expect(ms).toBeLessThan(5_000);
      expect(error.code).toBe('PROSA_NATS_AUTH');
      expect(error.message).toBe(
        `cannot connect to NATS at ${server.url}: the server refused the credentials (Authorization Violation). ` +
          'Check the credentials: user "alice" with a password (nats.user/nats.password, NATS_USER/NATS_PASSWORD).',
      );
      expect(error.message).not.toContain('wrong-battery');
      expect(error.cause).toBeInstanceOf(Error);
    });

    it('says which settings to set when no credentials are given', async () => {
      const { error } = await failure(() => connectNats({ url: server.url }));
      expect(error.code).toBe('PROSA_NATS_AUTH');
      expect(error.message).toContain('the server requires authentication');
      expect(error.message).toContain('NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS or NATS_NKEY_SEED');
    });

    it('takes credentials from a nats://user:password@host URL and masks the password in messages', async () => {
      const url = server.url.replace('nats://', 'nats://alice:correct-horse@');
      const nc = await connectNats({ url });
      await nc.close();

      const wrong = server.url.replace('nats://', 'nats://alice:wrong-battery@');
      const { error } = await failure(() => connectNats({ url: wrong }));
      expect(error.code).toBe('PROSA_NATS_AUTH');
      expect(error.message).toContain(
        `cannot connect to NATS at ${server.url.replace('nats://', 'nats://alice:***@')}`,
      );
      expect(error.message).not.toContain('wrong-battery');
    });
  });

  describe('on a server that requires a token', () => {
    let server: TestNatsServer;
    beforeAll(async () => {
      server = await startNatsServer({ token: 's3cr3t-token' });
    });
    afterAll(() => server.cleanup());

    it('connects with the right token', async () => {
      const nc = await connectNats({ url: server.url, token: 's3cr3t-token' });
      await nc.close();
    });

    it('fails fast with PROSA_NATS_AUTH naming the URL, never the token', async () => {
      const { error, ms } = await failure(() => connectNats({ url: server.url, token: 'not-the-token' }));
      expect(ms).toBeLessThan(5_000);
      expect(error.code).toBe('PROSA_NATS_AUTH');
      expect(error.message).toContain(
        `cannot connect to NATS at ${server.url}: the server refused the credentials`,
      );
      expect(error.message).toContain('a token (nats.token, NATS_TOKEN)');
      expect(error.message).not.toContain('not-the-token');
    });

    it('masks a token given in the URL (nats://token@host)', async () => {
      const { error } = await failure(() =>
        connectNats({ url: server.url.replace('nats://', 'nats://not-the-token@') }),
      );
      expect(error.message).toContain(server.url.replace('nats://', 'nats://***@'));
      expect(error.message).not.toContain('not-the-token');
    });
  });

  describe('on a server that authenticates nkeys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prosa-nkey-'));
    const user = nkeys.createUser();
    const seed = new TextDecoder().decode(user.getSeed());
    let server: TestNatsServer;
    beforeAll(async () => {
      const conf = join(dir, 'server.conf');
      writeFileSync(conf, `authorization { users = [ { nkey: "${user.getPublicKey()}" } ] }\n`);
      server = await startNatsServer({ args: ['-c', conf] });
    });
    afterAll(async () => {
      await server.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('connects with the seed given inline', async () => {
      const nc = await connectNats({ url: server.url, nkeySeed: seed });
      await nc.close();
    });

    it('connects with the seed given as a file path', async () => {
      const file = join(dir, 'user.nk');
      writeFileSync(file, `${seed}\n`);
      const nc = await connectNats({ url: server.url, nkeySeed: file });
      await nc.close();
    });

    it('refuses another user\u2019s seed with PROSA_NATS_AUTH, never printing the seed', async () => {
      const other = new TextDecoder().decode(nkeys.createUser().getSeed());
      const { error } = await failure(() => connectNats({ url: server.url, nkeySeed: other }));
      expect(error.code).toBe('PROSA_NATS_AUTH');
      expect(error.message).toContain('an nkey seed (nats.nkeySeed, NATS_NKEY_SEED)');
      expect(error.message).not.toContain(other);
    });

    it('says so when the seed is neither a seed nor a readable file', async () => {
      const { error } = await failure(() =>
        connectNats({ url: server.url, nkeySeed: join(dir, 'missing.nk') }),
      );
      expect(error.code).toBe('PROSA_NATS_AUTH');
      expect(error.message).toContain(`cannot read the nkey seed file at ${join(dir, 'missing.nk')}`);
    });
  });

  describe.skipIf(!existsSync('/usr/bin/openssl'))(
    'on a TLS server that verifies client certificates',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'prosa-tls-'));
      const file = (name: string) => join(dir, name);
      let server: TestNatsServer;
      beforeAll(async () => {
        const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
        ssl(
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=prosa-test-ca',
          '-keyout',
          'ca.key',
          '-out',
          'ca.pem',
        );
        writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
        for (const who of ['server', 'client']) {
          ssl(
            'req',
            '-newkey',
            'rsa:2048',
            '-nodes',
            '-subj',
            `/CN=${who}`,
            '-keyout',
            `${who}.key`,
            '-out',
            `${who}.csr`,
          );
          ssl(
            'x509',
            '-req',
            '-in',
            `${who}.csr`,
            '-CA',
            'ca.pem',
            '-CAkey',
            'ca.key',
            '-CAcreateserial',
            '-days',
            '1',
            '-extfile',
            'san.ext',
            '-out',
            `${who}.pem`,
          );
        }
        server = await startNatsServer({
          args: [
            '--tls',
            '--tlscert',
            file('server.pem'),
            '--tlskey',
            file('server.key'),
            '--tlscacert',
            file('ca.pem'),
            '--tlsverify',
          ],
        });
      });
      afterAll(async () => {
        await server.cleanup();
        rmSync(dir, { recursive: true, force: true });
      });

      it('connects with the CA, certificate and key given as file paths', async () => {
        const nc = await connectNats({
          url: server.url,
          tls: { ca: file('ca.pem'), cert: file('client.pem'), key: file('client.key') },
        });
        await nc.close();
      });

      it('fails at once with a TLS message when the server certificate is not trusted (no CA given)', async () => {
        const { error, ms } = await failure(() =>
          connectNats({ url: server.url, tls: { cert: file('client.pem'), key: file('client.key') } }),
        );
        expect(ms).toBeLessThan(2_000);
        expect(error.code).toBe('PROSA_NATS_UNREACHABLE');
        expect(error.message).toContain(
          `cannot connect to NATS at ${server.url}: the TLS handshake failed (unable to verify the first certificate). Check the URL scheme (tls://) and nats.tls (NATS_CA, NATS_CERT, NATS_KEY)`,
        );
      });
    },
  );

  describe('when nothing listens on the port', () => {
    it('fails at once with PROSA_NATS_UNREACHABLE naming the URL, the cause and what to check', async () => {
      const url = 'nats://127.0.0.1:1';
      const { error, ms } = await failure(() => connectNats({ url, connectTimeout: 2_000 }));
      expect(ms).toBeLessThan(2_000);
      expect(error.code).toBe('PROSA_NATS_UNREACHABLE');
      expect(error.message).toContain(`cannot connect to NATS at ${url}: connection refused (ECONNREFUSED)`);
      expect(error.message).toContain('Check that nats-server runs and listens there');
    });
  });

  describe('when the port accepts but never answers', () => {
    let url: string;
    let close: () => Promise<void>;
    let connections: () => Promise<number>;
    beforeAll(async () => {
      ({ url, close, connections } = await startSilentServer());
    });
    afterAll(() => close());

    it('fails within connectTimeout with PROSA_NATS_UNREACHABLE saying it timed out', async () => {
      const { error, ms } = await failure(() => connectNats({ url, connectTimeout: 1_000 }));
      expect(ms).toBeGreaterThanOrEqual(900);
      expect(ms).toBeLessThan(2_500);
      expect(error.code).toBe('PROSA_NATS_UNREACHABLE');
      expect(error.message).toContain(`cannot connect to NATS at ${url}: no answer within 1000 ms (timeout)`);
    });

    it('connects at once when another server of the list answers', async () => {
      const good = await startNatsServer();
      try {
        const started = Date.now();
        const nc = await connectNats({ url: `${url},${good.url}`, connectTimeout: 3_000 });
        expect(Date.now() - started).toBeLessThan(1_000);
        expect(nc.getServer()).toBe(good.url.replace('nats://', ''));
        await nc.close();
      } finally {
        await good.cleanup();
      }
    });

    it('leaves no socket open behind (which would keep the process alive)', async () => {
      await failure(() => connectNats({ url, connectTimeout: 500 }));
      await new Promise((r) => setTimeout(r, 100));
      const open = await connections();
      expect(open).toBe(0);
    });
  });

  describe('when the server restarts under a live connection', () => {
    let server: TestNatsServer;
    beforeAll(async () => {
      server = await startNatsServer();
    });
    afterAll(() => server.cleanup());

    it('reconnects by itself, logging the disconnect at warn and the reconnect at info', async () => {
      const { log, lines } = capturingLogger();
      const nc = await connectNats({ url: server.url }, log);
      await server.restart();
      await waitFor('the reconnect', () => lines.some((l) => l.msg.startsWith('NATS reconnected')), 15_000);
      expect(lines.find((l) => l.msg.startsWith('NATS disconnected'))?.level).toBe(40);
      expect(lines.find((l) => l.msg.startsWith('NATS reconnected'))?.level).toBe(30);
      const reply = await nc.request('$JS.API.INFO', undefined, { timeout: 2_000 });
      expect(reply.json<{ type: string }>().type).toBe('io.nats.jetstream.api.v1.account_info_response');
      await nc.close();
    });

    it('keeps trying while the server is down longer than a few attempts', async () => {
      const { log, lines } = capturingLogger();
      const nc = await connectNats({ url: server.url }, log);
      await server.stop();
      await new Promise((r) => setTimeout(r, 2_500));
      expect(nc.isClosed()).toBe(false);
      await server.restart();
      await waitFor('the reconnect', () => lines.some((l) => l.msg.startsWith('NATS reconnected')), 15_000);
      await nc.close();
    });
  });
});

describe('server version', () => {
  let server: TestNatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(() => server.cleanup());

  describe('on the 2.9 server here', () => {
    it('reads it as [major, minor, patch]', async () => {
      const nc = await connectNats({ url: server.url });
      const v = serverVersion(nc);
      expect(v).toHaveLength(3);
      expect(v[0]).toBe(2);
      expect(v[1]).toBeGreaterThanOrEqual(9);
      await nc.close();
    });

    it('passes a requirement it meets and fails one it does not with PROSA_SERVER_TOO_OLD', async () => {
      const nc = await connectNats({ url: server.url });
      expect(() => requireServerVersion(nc, [2, 9, 0], 'anything')).not.toThrow();
      const [major, minor] = serverVersion(nc);
      const tooNew = [major, minor + 1, 0] as const;
      const v = serverVersion(nc).join('.');
      expect(() => requireServerVersion(nc, tooNew, 'streams.DLQ.compression')).toThrow(ProsaError);
      expect(() => requireServerVersion(nc, tooNew, 'streams.DLQ.compression')).toThrow(
        `streams.DLQ.compression needs nats-server ${tooNew.join('.')} or newer, but the server at ${nc.getServer()} runs ${v}; ` +
          'upgrade nats-server, or remove streams.DLQ.compression from runtime.config.ts',
      );
      await nc.close();
    });

    it('has JetStream', async () => {
      const nc = await connectNats({ url: server.url });
      const jsm = await requireJetStream(nc);
      expect((await jsm.getAccountInfo()).streams).toBeGreaterThanOrEqual(0);
      await nc.close();
    });
  });
});

describe('redactUrl', () => {
  it('masks passwords and tokens in every URL of a list', () => {
    expect(redactUrl('nats://u:p@a:4222,tls://tok@b:4222,c:4222')).toBe(
      'nats://u:***@a:4222,tls://***@b:4222,c:4222',
    );
  });
});
