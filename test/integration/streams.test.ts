import { randomBytes } from 'node:crypto';
import type { JetStreamManager } from '@nats-io/jetstream';
import { jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProsaConfigInput, resolveConfig, type StreamConfig } from '../../src/config/config.js';
import { ProsaError } from '../../src/errors.js';
import { connectNats } from '../../src/nats/connection.js';
import { applyStreams, diffStream, listStreams } from '../../src/nats/streams.js';
import { startNatsServer, type TestNatsServer } from '../support/natsServer.js';

type StreamInput = NonNullable<ProsaConfigInput['streams']>[string];

/** A stream as resolveConfig makes it from runtime.config.ts (defaults applied). */
const streamConfig = (input: StreamInput): StreamConfig => {
  const all = resolveConfig({ streams: { S: input } }, { env: {} }).streams;
  return all.S as StreamConfig;
};

/** A random stream name and subject prefix, so tests never share a stream. */
const fresh = () => {
  const id = randomBytes(4).toString('hex');
  return { name: `T_${id}`, subject: `t${id}` };
};

function capturingLogger() {
  const lines: { level: number; msg: string; stream?: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

async function refusal(fn: () => Promise<unknown>): Promise<ProsaError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProsaError);
    return e as ProsaError;
  }
  throw new Error('expected a ProsaError, but it resolved');
}

const DAY = 86_400_000;

describe('streams from config', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connectNats({ url: server.url });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await nc?.close();
    await server?.cleanup();
  });

  describe('INFRASTRUCTURE_EVENTS with the defaults', () => {
    it('is created exactly as the CIM crate creates it: limits, file, 1 year, 1,000,000 messages, 2 min duplicate window', async () => {
      const { streams } = resolveConfig({}, { env: {} });
      const infra = streams.INFRASTRUCTURE_EVENTS as StreamConfig;
      expect(infra.mode).toBe('external');
      const [report] = await applyStreams(nc, { INFRASTRUCTURE_EVENTS: infra });
      expect(report).toEqual({
        name: 'INFRASTRUCTURE_EVENTS',
        mode: 'external',
        action: 'created',
        differences: [],
      });
      const { config } = await jsm.streams.info('INFRASTRUCTURE_EVENTS');
      expect(config).toMatchObject({
        subjects: ['infrastructure.>'],
        retention: 'limits',
        storage: 'file',
        max_age: nanos(365 * DAY),
        max_msgs: 1_000_000,
        max_bytes: -1,
        duplicate_window: nanos(120_000),
        discard: 'old',
        num_replicas: 1,
      });
      await jsm.streams.delete('INFRASTRUCTURE_EVENTS');
    });

    it('creates DLQ (7 days) and COMMANDS (work queue, 1 hour duplicate window) as managed streams', async () => {
      const { streams } = resolveConfig({}, { env: {} });
      const reports = await applyStreams(nc, {
        DLQ: streams.DLQ as StreamConfig,
        COMMANDS: streams.COMMANDS as StreamConfig,
      });
      expect(reports.map((r) => [r.name, r.mode, r.action])).toEqual([
        ['DLQ', 'managed', 'created'],
        ['COMMANDS', 'managed', 'created'],
      ]);
      expect((await jsm.streams.info('DLQ')).config).toMatchObject({
        subjects: ['dlq.>'],
        max_age: nanos(7 * DAY),
        duplicate_window: nanos(3_600_000),
      });
      expect((await jsm.streams.info('COMMANDS')).config).toMatchObject({
        subjects: ['commands.>'],
        retention: 'workqueue',
        duplicate_window: nanos(3_600_000),
      });
      await jsm.streams.delete('DLQ');
      await jsm.streams.delete('COMMANDS');
    });
  });

  describe('a managed stream', () => {
    describe('when it is absent', () => {
      it('is created with its settings and reported as created', async () => {
        const { name, subject } = fresh();
        const { log, lines } = capturingLogger();
        const config = streamConfig({
          subjects: [`${subject}.>`],
          maxAge: '1d',
          maxMsgs: 500,
          maxBytes: 1_000_000,
          duplicateWindow: '30s',
          discard: 'new',
        });
        const reports = await applyStreams(nc, { [name]: config }, log);
        expect(reports).toEqual([{ name, mode: 'managed', action: 'created', differences: [] }]);
        const info = await jsm.streams.info(name);
        expect(info.config).toMatchObject({
          max_age: nanos(DAY),
          max_msgs: 500,
          max_bytes: 1_000_000,
          duplicate_window: nanos(30_000),
          discard: 'new',
        });
        expect(lines.find((l) => l.msg === `created stream ${name} (managed)`)?.level).toBe(30);
      });
    });

    describe('when it is applied again unchanged', () => {
      it('is left alone and reported unchanged', async () => {
        const { name, subject } = fresh();
        const config = streamConfig({ subjects: [`${subject}.>`], maxAge: '1d' });
        await applyStreams(nc, { [name]: config });
        const before = await jsm.streams.info(name);
        const again = await applyStreams(jsm, { [name]: config });
        expect(again).toEqual([{ name, mode: 'managed', action: 'unchanged', differences: [] }]);
        expect((await jsm.streams.info(name)).created).toBe(before.created);
      });

      it('treats subjects as a set (order does not matter)', async () => {
        const { name, subject } = fresh();
        await applyStreams(nc, { [name]: streamConfig({ subjects: [`${subject}.a`, `${subject}.b`] }) });
        const again = await applyStreams(nc, {
          [name]: streamConfig({ subjects: [`${subject}.b`, `${subject}.a`] }),
        });
        expect(again[0]?.action).toBe('unchanged');
      });
    });

    describe('when maxAge, duplicateWindow and subjects change', () => {
      it('is updated in place, keeping its messages, and reports what changed', async () => {
        const { name, subject } = fresh();
        await applyStreams(nc, {
          [name]: streamConfig({ subjects: [`${subject}.a`], maxAge: '1d', duplicateWindow: '1m' }),
        });
        await jsm.jetstream().publish(`${subject}.a`, 'kept');
        const { log, lines } = capturingLogger();
        const changed = streamConfig({
          subjects: [`${subject}.a`, `${subject}.b`],
          maxAge: '7d',
          duplicateWindow: '5m',
        });
        const [report] = await applyStreams(nc, { [name]: changed }, log);
        expect(report?.action).toBe('updated');
        expect(report?.differences).toEqual([
          {
            setting: 'subjects',
            configured: [`${subject}.a`, `${subject}.b`],
            actual: [`${subject}.a`],
            inPlace: true,
          },
          { setting: 'maxAge', configured: 7 * DAY, actual: DAY, inPlace: true },
          { setting: 'duplicateWindow', configured: 300_000, actual: 60_000, inPlace: true },
        ]);
        const info = await jsm.streams.info(name);
        expect(info.config).toMatchObject({
          subjects: [`${subject}.a`, `${subject}.b`],
          max_age: nanos(7 * DAY),
          duplicate_window: nanos(300_000),
        });
        expect(info.state.messages).toBe(1);
        const line = lines.find((l) => l.msg.startsWith(`updated stream ${name} in place`));
        expect(line?.level).toBe(30);
        expect(line?.msg).toBe(
          `updated stream ${name} in place: subjects: config ["${subject}.a","${subject}.b"], stream ["${subject}.a"]; ` +
            'maxAge: config 7d, stream 1d; duplicateWindow: config 5m, stream 1m',
        );
      });

      it('keeps settings the config does not have (a description set by hand)', async () => {
        const { name, subject } = fresh();
        await applyStreams(nc, { [name]: streamConfig({ subjects: [`${subject}.>`], maxAge: '1d' }) });
        await jsm.streams.update(name, { description: 'set by an operator' });
        await applyStreams(nc, { [name]: streamConfig({ subjects: [`${subject}.>`], maxAge: '2d' }) });
        expect((await jsm.streams.info(name)).config.description).toBe('set by an operator');
      });
    });

    describe('when its storage type changes', () => {
      it('fails with PROSA_STREAM_CHANGE_REFUSED naming the stream, the setting, both values and the way out, changing nothing', async () => {
        const { name, subject } = fresh();
        await applyStreams(nc, { [name]: streamConfig({ subjects: [`${subject}.>`], maxAge: '1d' }) });
        const error = await refusal(() =>
          applyStreams(nc, {
            [name]: streamConfig({ subjects: [`${subject}.>`], maxAge: '2d', storage: 'memory' }),
          }),
        );
        expect(error.code).toBe('PROSA_STREAM_CHANGE_REFUSED');
        expect(error.message).toBe(
          `stream ${name}: JetStream cannot change storage in place (storage: config "memory", stream "file"). ` +
            `To apply the config, delete the stream with \`nats stream rm ${name}\` (its messages are lost; prosa creates it again at start), ` +
            `or set streams.${name}.mode: 'external' in runtime.config.ts to leave the stream as it is`,
        );
        const info = await jsm.streams.info(name);
        expect(info.config.storage).toBe('file');
        expect(info.config.max_age).toBe(nanos(DAY));
      });
    });

    describe('when its retention changes', () => {
      it('fails with PROSA_STREAM_CHANGE_REFUSED naming retention and both values', async () => {
        const { name, subject } = fresh();
        await applyStreams(nc, { [name]: streamConfig({ subjects: [`${subject}.>`] }) });
        const error = await refusal(() =>
          applyStreams(nc, { [name]: streamConfig({ subjects: [`${subject}.>`], retention: 'workqueue' }) }),
        );
        expect(error.code).toBe('PROSA_STREAM_CHANGE_REFUSED');
        expect(error.message).toContain(
          `stream ${name}: JetStream cannot change retention in place (retention: config "workqueue", stream "limits")`,
        );
        expect(error.message).toContain(`nats stream rm ${name}`);
        expect((await jsm.streams.info(name)).config.retention).toBe('limits');
      });
    });

    describe('when its duplicate window is longer than its maxAge', () => {
      it('gets a window of maxAge (the server refuses a longer one) and then matches its config', async () => {
        const { name, subject } = fresh();
        const config = streamConfig({ subjects: [`${subject}.>`], maxAge: '30s' });
        await applyStreams(nc, { [name]: config });
        expect((await jsm.streams.info(name)).config.duplicate_window).toBe(nanos(30_000));
        expect((await applyStreams(nc, { [name]: config }))[0]?.action).toBe('unchanged');
      });
    });

    describe('when it asks for a setting of a newer server (compression) on 2.9', () => {
      it('fails with PROSA_SERVER_TOO_OLD naming the setting', async () => {
        const { name, subject } = fresh();
        const error = await refusal(() =>
          applyStreams(nc, {
            [name]: { ...streamConfig({ subjects: [`${subject}.>`] }), compression: 's2' },
          }),
        );
        expect(error.code).toBe('PROSA_SERVER_TOO_OLD');
        expect(error.message).toMatch(
          new RegExp(
            `^streams\\.${name}\\.compression needs nats-server 2\\.10\\.0 or newer, but the server at .* runs 2\\.9\\.\\d+`,
          ),
        );
        await expect(jsm.streams.info(name)).rejects.toThrow('stream not found');
      });
    });

    describe('when its subjects overlap another stream', () => {
      it('fails with PROSA_STREAM_MISSING naming the stream that holds them', async () => {
        const { name, subject } = fresh();
        const other = fresh().name;
        await jsm.streams.add({ name: other, subjects: [`${subject}.>`] });
        const error = await refusal(() =>
          applyStreams(nc, { [name]: streamConfig({ subjects: [`${subject}.x`] }) }),
        );
        expect(error.code).toBe('PROSA_STREAM_MISSING');
        expect(error.message).toBe(
          `stream ${name} does not exist and could not be created: its subjects ${subject}.x overlap with stream ${other}; ` +
            `use that stream instead (configure it under its own name: streams.${other}), or change streams.${name}.subjects`,
        );
      });
    });
  });

  describe('an external stream', () => {
    describe('when it is absent', () => {
      it('is created with the configured settings', async () => {
        const { name, subject } = fresh();
        const [report] = await applyStreams(nc, {
          [name]: streamConfig({ mode: 'external', subjects: [`${subject}.>`], maxAge: '1y', maxMsgs: 10 }),
        });
        expect(report?.action).toBe('created');
        expect((await jsm.streams.info(name)).config).toMatchObject({
          max_age: nanos(365 * DAY),
          max_msgs: 10,
        });
      });
    });

    describe('when it is present with different settings (the owner created it otherwise)', () => {
      it('is left unchanged, and the differences are logged at warn and reported', async () => {
        const { name, subject } = fresh();
        await jsm.streams.add({
          name,
          subjects: [`${subject}.>`],
          storage: 'memory',
          max_age: nanos(DAY),
          max_msgs: 5,
        });
        const before = await jsm.streams.info(name);
        const { log, lines } = capturingLogger();
        const config = streamConfig({
          mode: 'external',
          subjects: [`${subject}.>`],
          maxAge: '1y',
          maxMsgs: 1_000_000,
        });
        const [report] = await applyStreams(nc, { [name]: config }, log);
        expect(report).toEqual({
          name,
          mode: 'external',
          action: 'left-as-is',
          differences: [
            { setting: 'storage', configured: 'file', actual: 'memory', inPlace: false },
            { setting: 'maxAge', configured: 365 * DAY, actual: DAY, inPlace: true },
            { setting: 'maxMsgs', configured: 1_000_000, actual: 5, inPlace: true },
          ],
        });
        expect((await jsm.streams.info(name)).config).toEqual(before.config);
        const warn = lines.find((l) => l.level === 40);
        expect(warn?.msg).toBe(
          `stream ${name} is external and differs from runtime.config.ts; left as it is: ` +
            'storage: config "file", stream "memory"; maxAge: config 365d, stream 1d; maxMsgs: config 1000000, stream 5',
        );
      });
    });
  });

  describe('listStreams', () => {
    it('lists configured streams (present or missing, matching or not) first, then the others', async () => {
      const a = fresh();
      const b = fresh();
      const c = fresh();
      const stranger = fresh();
      const configA = streamConfig({ subjects: [`${a.subject}.>`] });
      await applyStreams(nc, { [a.name]: configA });
      await jsm.jetstream().publish(`${a.subject}.x`, 'one');
      await jsm.jetstream().publish(`${a.subject}.x`, 'two');
      await jsm.streams.add({ name: b.name, subjects: [`${b.subject}.>`], max_msgs: 3 });
      await jsm.streams.add({ name: stranger.name, subjects: [`${stranger.subject}.>`] });
      const configB = streamConfig({ mode: 'external', subjects: [`${b.subject}.>`] });
      const configC = streamConfig({ subjects: [`${c.subject}.>`] });

      const list = await listStreams(nc, { [a.name]: configA, [b.name]: configB, [c.name]: configC });
      expect(list.slice(0, 3).map((s) => [s.name, s.mode, s.present, s.matchesConfig])).toEqual([
        [a.name, 'managed', true, true],
        [b.name, 'external', true, false],
        [c.name, 'managed', false, undefined],
      ]);
      expect(list[0]).toMatchObject({
        subjects: [`${a.subject}.>`],
        messages: 2,
        firstSeq: 1,
        lastSeq: 2,
        consumers: 0,
      });
      expect(list[0]?.bytes).toBeGreaterThan(0);
      expect(list[1]?.differences).toEqual([
        { setting: 'maxMsgs', configured: -1, actual: 3, inPlace: true },
      ]);
      expect(list.find((s) => s.name === stranger.name)).toMatchObject({
        mode: 'unconfigured',
        present: true,
        matchesConfig: undefined,
      });
    });
  });
});

describe('diffStream', () => {
  const config = streamConfig({ subjects: ['x.>'], retention: 'interest', maxAge: '1h' });
  const js = {
    name: 'X',
    subjects: ['x.>'],
    retention: 'limits',
    storage: 'file',
    max_age: nanos(3_600_000),
    max_msgs: -1,
    max_bytes: -1,
    duplicate_window: nanos(120_000),
    num_replicas: 1,
    discard: 'old',
  } as const;

  describe('when retention moves between limits and interest', () => {
    it('is refused on 2.9 (the default) and allowed in place from 2.10', () => {
      // biome-ignore lint/suspicious/noExplicitAny: a partial JetStream config is enough here.
      const actual = js as any;
      expect(diffStream(config, actual)).toEqual([
        { setting: 'retention', configured: 'interest', actual: 'limits', inPlace: false },
      ]);
      expect(diffStream(config, actual, { serverVersion: [2, 10, 0] })[0]?.inPlace).toBe(true);
    });
  });
});
