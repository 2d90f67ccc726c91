import { spawn } from 'node:child_process';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import topology from '../../projections/topology.js';
import { decodeInfrastructureEvent } from '../../src/cim/infrastructure.js';
import type { RawEvent } from '../../src/define/projection.js';
import { ProsaError } from '../../src/errors.js';
import { publishAll } from '../bench/support.js';
import { seedInfrastructureEvents } from '../support/cimEvents.js';
import { startNatsServer, type TestNatsServer } from '../support/natsServer.js';
import { readTopologyFile, referenceTopology, topologyTables } from '../support/referenceTopology.js';
import { createTestRuntime, tempDir } from '../support/runtimeHarness.js';

const readModel = readTopologyFile;
const expected = (events: readonly RawEvent[]) => referenceTopology(events.map(decodeInfrastructureEvent));
const config = { projections: [topology] };

/** A reader process polling the table counts until stopped; resolves to its distinct observations. */
function startReader(dbPath: string) {
  const child = spawn(
    process.execPath,
    [new URL('../support/pollReader.mjs', import.meta.url).pathname, dbPath, topologyTables.join(',')],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.setEncoding('utf8');
  const ready = new Promise<void>((resolve) => {
    child.stdout.on('data', (c: string) => {
      out += c;
      if (out.includes('ready\n')) resolve();
    });
  });
  return {
    ready,
    async stop(): Promise<{ reads: number; observations: Record<string, number> }> {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      return JSON.parse(out.split('\n').filter(Boolean).pop() as string);
    },
  };
}

const counts = (model: ReturnType<typeof readModel>) => topologyTables.map((t) => model[t].size).join(',');

describe('rebuilding a read model', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  const first = seedInfrastructureEvents(6_000, { keys: 800, seed: 3 });

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url, noAsyncTraces: true });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.cleanup();
  });

  describe('when the live model is up to date and a rebuild runs beside it', () => {
    it('swaps in a model equal to the live-built one, and a reader never sees it empty or half-built', async () => {
      const t = createTestRuntime(server.url, config);
      try {
        await t.runtime.start();
        await publishAll(jetstream(nc), first);
        await t.runtime.caughtUp({ timeoutMs: 30_000 });
        const live = readModel(t.sqlitePath);
        expect(live).toEqual(expected(first));

        const reader = startReader(t.sqlitePath);
        await reader.ready;
        const result = await t.runtime.rebuild('topology', { onProgress: () => {} });
        const seen = await reader.stop();

        expect(result.checkpoint).toBe(first.length);
        expect(readModel(t.sqlitePath)).toEqual(live);
        // Every read saw the whole model: the old one or the new one (the same counts), never a part of it.
        expect(Object.keys(seen.observations)).toEqual([counts(live)]);
        expect(seen.reads).toBeGreaterThan(10);
        const status = await t.runtime.status();
        expect(status.projections[0]).toMatchObject({ checkpoint: first.length, lag: 0, state: 'running' });
      } finally {
        await t.cleanup();
      }
    });
  });

  describe('when events keep arriving during the rebuild', () => {
    it('the live worker keeps applying, and after the swap nothing is lost or applied twice', async () => {
      const dir = tempDir();
      const t = createTestRuntime(server.url, config, { dir });
      const more = seedInfrastructureEvents(9_000, { keys: 800, seed: 3 })
        .slice(6_000)
        .map((e, i) => ({ ...e, seq: 6_001 + i }));
      try {
        await t.runtime.start();
        await t.runtime.caughtUp({ timeoutMs: 30_000 });
        const rebuilding = t.runtime.rebuild('topology');
        await publishAll(jetstream(nc), more, 50);
        await rebuilding;
        await t.runtime.caughtUp({ timeoutMs: 30_000 });
        expect(readModel(t.sqlitePath)).toEqual(expected([...first, ...more]));
      } finally {
        await t.cleanup();
      }
    });
  });

  describe('when a rebuild of the same projection is already running', () => {
    it('refuses the second with a clear message', async () => {
      const t = createTestRuntime(server.url, config);
      try {
        await t.runtime.start();
        const one = t.runtime.rebuild('topology');
        const two = await t.runtime.rebuild('topology').catch((e: unknown) => e);
        await one;
        expect(two).toBeInstanceOf(ProsaError);
        expect((two as ProsaError).code).toBe('PROSA_REBUILD_RUNNING');
        expect((two as Error).message).toContain('a rebuild of topology is already running');
      } finally {
        await t.cleanup();
      }
    });
  });

  describe('when the worker starts with a new version of a projection', () => {
    it('rebuilds it beside the old model by itself, then runs it on the new model', async () => {
      const dir = tempDir();
      const v1 = createTestRuntime(server.url, config, { dir });
      await v1.runtime.start();
      await v1.runtime.caughtUp({ timeoutMs: 30_000 });
      await v1.runtime.drain();

      const v2 = createTestRuntime(server.url, { projections: [{ ...topology, version: 2 }] }, { dir });
      try {
        await v2.runtime.start();
        expect((await v2.runtime.status()).projections[0]?.state).toBe('rebuilding');
        await v2.runtime.rebuilds();
        await v2.runtime.caughtUp({ timeoutMs: 30_000 });
        const all = seedInfrastructureEvents(9_000, { keys: 800, seed: 3 });
        expect(readModel(v2.sqlitePath)).toEqual(expected(all));
        const db = new Database(v2.sqlitePath, { readonly: true });
        expect(
          db.prepare("SELECT version FROM prosa_checkpoints WHERE worker = 'topology'").pluck().get(),
        ).toBe(2);
        db.close();
      } finally {
        await v2.cleanup();
      }
    });
  });
});
