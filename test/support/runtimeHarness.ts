/**
 * A runtime on a test nats-server with a temporary SQLite file and silent logs. Each call gets
 * its own data directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ProsaConfigInput, resolveConfig } from '../../src/config/config.js';
import { silentLogger } from '../../src/logger.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime/runtime.js';

export interface TestRuntime {
  runtime: Runtime;
  dir: string;
  sqlitePath: string;
  cleanup(): Promise<void>;
}

export function tempDir(prefix = 'prosa-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function createTestRuntime(
  url: string,
  config: ProsaConfigInput,
  options: RuntimeOptions & { dir?: string } = {},
): TestRuntime {
  const dir = options.dir ?? tempDir();
  const sqlitePath = join(dir, 'prosa.db');
  const resolved = resolveConfig(
    {
      ...config,
      nats: { ...config.nats, url },
      dataDir: dir,
      sqlite: { path: sqlitePath },
      http: config.http ?? { enabled: false },
    },
    { env: {} },
  );
  const runtime = createRuntime(resolved, {
    log: options.log ?? silentLogger(),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return {
    runtime,
    dir,
    sqlitePath,
    async cleanup() {
      await runtime.drain();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
