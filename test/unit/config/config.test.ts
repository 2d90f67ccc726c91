import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/config.js';
import { ConfigError } from '../../../src/errors.js';
import { ledger } from '../../support/fixtures/ledger.js';

const resolve = (input: unknown, env: Record<string, string> = {}) =>
  resolveConfig(input, { env, cwd: '/srv/app' });
const failure = (input: unknown, env: Record<string, string> = {}) => {
  try {
    resolve(input, env);
  } catch (e) {
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration', () => {
  describe('when the config is empty and there is no environment', () => {
    const c = resolve({});
    it('uses the embedded default: no URL, data and SQLite under .prosa', () => {
      expect(c.nats.url).toBeUndefined();
      expect(c.dataDir).toBe('/srv/app/.prosa');
      expect(c.sqlitePath).toBe('/srv/app/.prosa/prosa.db');
    });
    it('has the three default streams with the crate settings for INFRASTRUCTURE_EVENTS', () => {
      expect(c.streams.INFRASTRUCTURE_EVENTS).toEqual({
        mode: 'external',
        subjects: ['infrastructure.>'],
        retention: 'limits',
        storage: 'file',
        maxAge: 365 * 86_400_000,
        maxMsgs: 1_000_000,
        maxBytes: -1,
        duplicateWindow: 120_000,
        replicas: 1,
        discard: 'old',
      });
      expect(c.streams.DLQ).toMatchObject({ mode: 'managed', subjects: ['dlq.>'], maxAge: 7 * 86_400_000 });
      expect(c.streams.COMMANDS).toMatchObject({
        mode: 'managed',
        retention: 'workqueue',
        duplicateWindow: 3_600_000,
      });
    });
    it('is frozen', () => {
      expect(Object.isFrozen(c)).toBe(true);
      expect(Object.isFrozen(c.streams.DLQ)).toBe(true);
    });
  });

  describe('when the environment sets connection and paths', () => {
    it('overrides the config', () => {
      const c = resolve(
        { nats: { url: 'nats://config:4222' }, log: { level: 'debug' } },
        {
          NATS_URL: 'nats://env:4222',
          NATS_USER: 'u',
          NATS_PASSWORD: 'p',
          PROSA_DB: 'x/db.sqlite',
          PROSA_DATA_DIR: '/data',
          LOG_LEVEL: 'warn',
          NATS_CA: '/ca.pem',
        },
      );
      expect(c.nats).toMatchObject({
        url: 'nats://env:4222',
        user: 'u',
        password: 'p',
        tls: { ca: '/ca.pem' },
      });
      expect(c.sqlitePath).toBe('/srv/app/x/db.sqlite');
      expect(c.dataDir).toBe('/data');
      expect(c.logLevel).toBe('warn');
    });
  });

  describe('when PROSA_HTTP_PORT is set', () => {
    it('overrides http.port', () => {
      expect(resolve({ http: { port: 9000 } }, { PROSA_HTTP_PORT: '9470' }).http.port).toBe(9470);
    });
    it('may be 0, to pick a free port', () => {
      expect(resolve({}, { PROSA_HTTP_PORT: '0' }).http.port).toBe(0);
    });
    it('counts as unset when empty', () => {
      expect(resolve({ http: { port: 9000 } }, { PROSA_HTTP_PORT: '' }).http.port).toBe(9000);
    });
    it('refuses what is not a port, naming the variable', () => {
      for (const bad of ['http', '-1', '70000', '94.64']) {
        const e = failure({}, { PROSA_HTTP_PORT: bad });
        expect(e).toBeInstanceOf(ConfigError);
        expect(e.message).toContain(
          `PROSA_HTTP_PORT: must be a port 0-65535 (0 picks a free one), got ${JSON.stringify(bad)}`,
        );
      }
    });
  });

  describe('when nats.waitAtStart is not set', () => {
    it('waits for the server at start', () => {
      expect(resolve({}).nats.waitAtStart).toBe(true);
    });
    it('takes false, and refuses what is not a boolean', () => {
      expect(resolve({ nats: { waitAtStart: false } }).nats.waitAtStart).toBe(false);
      expect(failure({ nats: { waitAtStart: 'no' } }).message).toContain(
        'nats.waitAtStart: must be true or false',
      );
    });
  });

  describe('when a projection is configured', () => {
    it('gets the default worker options with its own consumer name', () => {
      const c = resolve({
        streams: { LEDGER: { subjects: ['ledger.>'] } },
        projections: [ledger],
        workers: { ledger: { maxActors: 5 } },
      });
      expect(c.workers.ledger).toMatchObject({
        batch: { maxMessages: 10_000, maxWaitMs: 500 },
        maxActors: 5,
        consumer: 'ledger',
        onError: 'dead-letter',
        ackWait: 60_000,
        maxAckPending: 50_000,
      });
    });

    it('gives saga leases 10s unless told otherwise', () => {
      const streams = { LEDGER: { subjects: ['ledger.>'] } };
      expect(resolve({ streams, projections: [ledger] }).workers.ledger?.leaseTtl).toBe(10_000);
      expect(
        resolve({ streams, projections: [ledger], defaults: { leaseTtl: '3s' } }).workers.ledger?.leaseTtl,
      ).toBe(3_000);
    });

    it('lets the heap grow to twice what survived its last full collection unless told otherwise', () => {
      expect(resolve({}).heapGrowthPercent).toBe(100);
      expect(resolve({ heapGrowthPercent: 0 }).heapGrowthPercent).toBe(0);
      expect(failure({ heapGrowthPercent: -5 }).issues.map((i) => i.path)).toEqual(['heapGrowthPercent']);
    });

    it('names durables after the instance when several processes share NATS (PROSA_INSTANCE)', () => {
      const streams = { LEDGER: { subjects: ['ledger.>'] } };
      expect(resolve({ streams, projections: [ledger] }).workers.ledger?.consumer).toBe('ledger');
      expect(
        resolve({ streams, projections: [ledger] }, { PROSA_INSTANCE: 'b' }).workers.ledger?.consumer,
      ).toBe('ledger-b');
      expect(
        resolve({ streams, projections: [ledger], instance: 'a', workers: { ledger: { consumer: 'books' } } })
          .workers.ledger?.consumer,
      ).toBe('books-a');
      expect(() => resolve({ streams, projections: [ledger], instance: 'a b' })).toThrow(/instance/);
    });

    it('keeps published commands 1h, ended timers 1d and finished records 7d unless told otherwise', () => {
      const streams = { LEDGER: { subjects: ['ledger.>'] } };
      expect(resolve({ streams, projections: [ledger] }).workers.ledger).toMatchObject({
        publishedRetention: 3_600_000,
        timerRetention: 86_400_000,
        finishedRetention: 604_800_000,
      });
      const c = resolve({
        streams,
        projections: [ledger],
        defaults: { timerRetention: '2h' },
        workers: { ledger: { publishedRetention: '3h', finishedRetention: '1d' } },
      });
      expect(c.workers.ledger).toMatchObject({
        publishedRetention: 10_800_000,
        timerRetention: 7_200_000,
        finishedRetention: 86_400_000,
      });
    });
  });

  describe('when a value is not allowed', () => {
    it('names the field and what is allowed for a bad duration', () => {
      const e = failure({ streams: { INFRASTRUCTURE_EVENTS: { duplicateWindow: 'soon' } } });
      expect(e).toBeInstanceOf(ConfigError);
      expect(e.code).toBe('PROSA_CONFIG_INVALID');
      expect(e.message).toContain(
        'streams.INFRASTRUCTURE_EVENTS.duplicateWindow: expected a duration like "2m", got "soon"',
      );
    });
    it('names the field for a negative batch size', () => {
      const e = failure({
        streams: { LEDGER: { subjects: ['ledger.>'] } },
        projections: [ledger],
        workers: { ledger: { batch: { maxMessages: -1 } } },
      });
      expect(e.message).toContain('workers.ledger.batch.maxMessages: must be a positive integer');
    });
    it('names an unknown field', () => {
      expect(failure({ nats: { urll: 'x' } }).message).toContain('nats: unknown field(s) "urll"');
    });
    it('refuses a projection on a stream that is not configured', () => {
      expect(failure({ projections: [ledger] }).message).toContain(
        'projections.0.source.stream: names stream "LEDGER", which is not in streams',
      );
    });
    it('refuses workers options for a name that does not exist', () => {
      expect(failure({ workers: { nope: {} } }).message).toContain(
        'workers.nope: no projection or saga is named "nope"',
      );
    });
    it('refuses a bad LOG_LEVEL from the environment', () => {
      expect(failure({}, { LOG_LEVEL: 'loud' }).message).toContain(
        'log.level: must be one of trace, debug, info, warn, error, fatal, silent',
      );
    });
    it('refuses maxAckPending not above the batch size', () => {
      const e = failure({
        streams: { LEDGER: { subjects: ['ledger.>'] } },
        projections: [ledger],
        defaults: { batch: { maxMessages: 2000 }, maxAckPending: 1000 },
      });
      expect(e.message).toContain(
        'workers.ledger.maxAckPending: must exceed batch.maxMessages (2000), got 1000',
      );
    });
  });
});
