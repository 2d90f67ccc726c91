// An operator's change written straight to SQLite would not reach a worker running in another
// process: when that worker cannot be asked over NATS, the commands refuse and change nothing.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import topology from '../../../projections/topology.js';
import { resolveConfig } from '../../../src/config/config.js';
import { createLogger } from '../../../src/logger.js';
import { type AdminContext, pauseWorker, skipDeadLetter } from '../../../src/ops/admin.js';
import { openDatabase } from '../../../src/store/database.js';
import { createDeadLetterWriter, readDeadLetterResolution } from '../../../src/store/deadLetters.js';
import { readPause } from '../../../src/store/pauses.js';
import { createWorkerRowWriter } from '../../../src/store/workers.js';
import { systemClock } from '../../../src/time/clock.js';
import { tempDir } from '../../support/runtimeHarness.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const dir = tempDir();
  dirs.push(dir);
  const sqlitePath = join(dir, 'prosa.db');
  const config = resolveConfig(
    { dataDir: dir, sqlite: { path: sqlitePath }, projections: [topology] },
    { env: {} },
  );
  const db = openDatabase(sqlitePath);
  const c: AdminContext = {
    config,
    db,
    nc: undefined,
    js: undefined,
    jsm: undefined,
    log: createLogger({ level: 'silent' }),
    clock: systemClock,
  };
  createDeadLetterWriter(db)(
    'topology',
    'INFRASTRUCTURE',
    7,
    'infrastructure.x',
    Buffer.from('{}'),
    'bad',
    '2026-01-01T00:00:00Z',
  );
  return { c, db };
}

/** Another live process that holds the worker, as a running `prosa run` does. */
function heldByAnotherProcess(c: AdminContext): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  children.push(child);
  createWorkerRowWriter(c.db)({
    worker: 'topology',
    kind: 'projection',
    state: 'running',
    pid: child.pid ?? null,
    liveActors: 0,
    rate: 0,
    detail: null,
    updatedAt: new Date().toISOString(),
  });
  return child;
}

describe('operator commands without NATS while the worker runs elsewhere', () => {
  it('refuse to skip a dead letter or pause, and change nothing', async () => {
    const { c, db } = setup();
    try {
      const child = heldByAnotherProcess(c);
      await expect(skipDeadLetter(c, 'topology', 7)).rejects.toMatchObject({
        code: 'PROSA_WORKER_RUNNING',
        message: expect.stringContaining(`runs in process ${child.pid}`),
      });
      expect(readDeadLetterResolution(db, 'topology', 7)).toBeNull();
      await expect(pauseWorker(c, 'topology')).rejects.toMatchObject({ code: 'PROSA_WORKER_RUNNING' });
      expect(readPause(db, 'topology')).toBeUndefined();
    } finally {
      db.close();
    }
  });

  it('do it on SQLite once that process is gone', async () => {
    const { c, db } = setup();
    try {
      const child = heldByAnotherProcess(c);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      const result = await skipDeadLetter(c, 'topology', 7);
      expect(result).toMatchObject({ via: 'sqlite', seq: 7 });
      expect(readDeadLetterResolution(db, 'topology', 7)).toBe('skipped');
    } finally {
      db.close();
    }
  });
});
