/**
 * `prosa run --only` (PROSA_ONLY): the workers of one config split over processes that share one
 * SQLite file and one NATS, each on a core of its own. Real nats-server, real `prosa run` processes:
 * together they fold what one process folds, each worker runs in exactly one of them, and
 * `prosa status` from another terminal shows every worker.
 */
import type { ChildProcess } from 'node:child_process';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import decommission from '../../sagas/decommission.js';
import provisioning from '../../sagas/provisioning.js';
import { decodeInfrastructureEvent } from '../../src/cim/infrastructure.js';
import { replaySaga } from '../../src/testkit/sagaReplay.js';
import { publishAll } from '../bench/support.js';
import { type CliProject, cliProject, runCli, spawnCli } from '../support/cliHarness.js';
import { readCommands } from '../support/commands.js';
import { sagaWorkload } from '../support/infrastructureEvents.js';
import { startNatsServer, type TestNatsServer, waitForStream } from '../support/natsServer.js';
import { readTopologyFile, referenceTopology } from '../support/referenceTopology.js';
import { waitFor, waitForAsync } from '../support/waitFor.js';

const files = {
  topology: 'projections/topology.ts',
  decommission: 'sagas/decommission.ts',
  provisioning: 'sagas/provisioning.ts',
};
const BODY = `{ projections: [topology], sagas: [decommission, provisioning], http: { enabled: false },
  defaults: { batch: { maxMessages: 50, maxWaitMs: 20 } } }`;

interface Proc {
  child: ChildProcess;
  output: string;
  exit: Promise<number | null>;
}

function start(project: CliProject, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawnCli(project, ['run', ...args], env);
  const proc: Proc = { child, output: '', exit: new Promise((r) => child.once('exit', (code) => r(code))) };
  child.stdout?.on('data', (d) => {
    proc.output += String(d);
  });
  child.stderr?.on('data', (d) => {
    proc.output += String(d);
  });
  return proc;
}

const checkpoints = (path: string): Record<string, number> => {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT worker, seq FROM prosa_checkpoints').all() as {
      worker: string;
      seq: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.worker, r.seq]));
  } catch {
    return {}; // not created yet
  } finally {
    db.close();
  }
};

describe('prosa run --only: one config, its workers in several processes on one database', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  const procs: Proc[] = [];
  afterEach(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exit));
    procs.length = 0;
    await nc?.close();
    await server?.cleanup();
  });

  it('folds and commands as one process would; each worker runs once; status shows all', {
    timeout: 60_000,
  }, async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url, noAsyncTraces: true });
    const project = cliProject(server.url, BODY, files);
    const projectionProc = start(project, ['--only', 'topology']);
    const sagaProc = start(project, [], { PROSA_ONLY: 'decommission, provisioning' });
    procs.push(projectionProc, sagaProc);
    const jsm = await jetstreamManager(nc);
    await waitForStream(jsm, 'INFRASTRUCTURE_EVENTS', 30_000);
    const events = sagaWorkload(60);
    await publishAll(jetstream(nc), events);
    const last = events.length;
    await waitFor(
      'all three workers at the end of the stream',
      () => {
        const at = checkpoints(project.sqlitePath);
        return at.topology === last && at.decommission === last && at.provisioning === last;
      },
      30_000,
    );

    // Together: the reference fold, and every command of the clean pass, once.
    expect(readTopologyFile(project.sqlitePath)).toEqual(
      referenceTopology(events.map(decodeInfrastructureEvent)),
    );
    const expected = [
      ...replaySaga(decommission, events, [], { steps: [] }).published.keys(),
      ...replaySaga(provisioning, events, [], { steps: [] }).published.keys(),
    ].sort();
    expect(expected.length).toBeGreaterThan(20);
    await waitForAsync(
      'the commands published',
      async () => (await jsm.streams.info('COMMANDS')).state.messages >= expected.length,
      15_000,
    );
    const published = (await readCommands(jetstream(nc), jsm)).map((c) => c.msgId).sort();
    expect(published).toEqual(expected);

    // Another terminal sees every worker, wherever it runs.
    const status = await runCli(project, ['status', '--json']);
    const shown = JSON.parse(status.out) as {
      projections: { name: string; checkpoint: number }[];
      sagas: { name: string; checkpoint: number }[];
    };
    expect([...shown.projections, ...shown.sagas].map((w) => [w.name, w.checkpoint])).toEqual([
      ['topology', last],
      ['decommission', last],
      ['provisioning', last],
    ]);

    // A worker runs in one process only: a second one asking for topology is refused.
    const again = start(project, ['--only', 'topology']);
    procs.push(again);
    expect(await again.exit).not.toBe(0);
    expect(again.output).toContain('topology is already running in process');
    expect(projectionProc.child.exitCode).toBeNull();
    expect(sagaProc.child.exitCode).toBeNull();
  });

  it('refuses a name the config does not have, saying which it has', async () => {
    const project = cliProject('nats://127.0.0.1:1', BODY, files);
    const run = await runCli(project, ['run', '--only', 'topology,nosuch']);
    expect(run.code).toBe(2);
    expect(run.err).toContain(
      'no projection or saga is named "nosuch" (known: topology, decommission, provisioning)',
    );
    project.env.PROSA_ONLY = 'nosuch';
    const env = await runCli(project, ['status']);
    expect(env.code).toBe(2);
    expect(env.err).toContain('PROSA_ONLY: no projection or saga is named "nosuch"');
  });
});
