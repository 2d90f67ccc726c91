import { existsSync } from 'node:fs';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import topology from '../../projections/topology.js';
import { decodeInfrastructureEvent } from '../../src/cim/infrastructure.js';
import { shadowPathOf } from '../../src/runtime/rebuild.js';
import { publishAll } from '../bench/support.js';
import { seedInfrastructureEvents } from '../support/cimEvents.js';
import { cliProject, runCli, spawnCli } from '../support/cliHarness.js';
import { startNatsServer, type TestNatsServer } from '../support/natsServer.js';
import { readTopologyFile, referenceTopology } from '../support/referenceTopology.js';
import { createTestRuntime } from '../support/runtimeHarness.js';

const readModel = readTopologyFile;

describe('rebuild under kill -9', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url, noAsyncTraces: true });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.cleanup();
  });

  describe('when `prosa rebuild` is killed midway while the worker runs', () => {
    it('leaves the live model intact and serving, and a second run resumes and swaps in the right model', async () => {
      const events = seedInfrastructureEvents(20_000, { keys: 2_000, seed: 5 });
      const project = cliProject(server.url, '{ projections: [topology], http: { enabled: false } }', {
        topology: 'projections/topology.ts',
      });
      const worker = createTestRuntime(server.url, { projections: [topology] }, { dir: project.dir });
      try {
        await worker.runtime.start();
        await publishAll(jetstream(nc), events);
        await worker.runtime.caughtUp({ timeoutMs: 60_000 });
        const before = readModel(project.sqlitePath);

        // Small batches so the rebuild is still replaying when it is killed.
        const child = spawnCli(project, ['rebuild', 'topology', '--batch', '200']);
        let out = '';
        child.stdout?.setEncoding('utf8');
        await new Promise<void>((resolve, reject) => {
          child.stdout?.on('data', (c: string) => {
            out += c;
            const progress = out
              .split('\n')
              .filter((l) => l.startsWith('{'))
              .map((l) => JSON.parse(l) as { checkpoint: number });
            if (progress.some((p) => p.checkpoint >= 2_000)) resolve();
          });
          child.once('exit', (code) =>
            reject(new Error(`rebuild exited (${code}) before it could be killed: ${out}`)),
          );
        });
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));

        // The live model is untouched and the worker still applies new events.
        expect(readModel(project.sqlitePath)).toEqual(before);
        expect(existsSync(shadowPathOf(project.sqlitePath, 'topology'))).toBe(true);
        const more = seedInfrastructureEvents(21_000, { keys: 2_000, seed: 5 }).slice(20_000);
        await publishAll(jetstream(nc), more);
        await worker.runtime.caughtUp({ timeoutMs: 60_000 });
        const all = [...events, ...more];
        const reference = referenceTopology(all.map(decodeInfrastructureEvent));
        expect(readModel(project.sqlitePath)).toEqual(reference);

        // Run again: it takes over the dead process's lock and resumes from the shadow.
        const again = await runCli(project, ['rebuild', 'topology']);
        expect(again.err).toBe('');
        expect(again.code).toBe(0);
        expect(again.out).toContain('resumed an interrupted rebuild');
        expect(readModel(project.sqlitePath)).toEqual(reference);
        expect(existsSync(shadowPathOf(project.sqlitePath, 'topology'))).toBe(false);
        await worker.runtime.caughtUp({ timeoutMs: 60_000 });
        expect((await worker.runtime.status()).projections[0]).toMatchObject({ state: 'running', lag: 0 });
      } finally {
        await worker.cleanup();
      }
    });
  });
});
