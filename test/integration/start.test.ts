import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliProject, runCli, spawnCli } from '../support/cliHarness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start on the embedded default', () => {
  describe('when no NATS_URL is set', () => {
    it('starts an embedded nats-server under .prosa, other commands find it, and SIGTERM stops both with exit 0', {
      timeout: 60_000,
    }, async () => {
      const project = cliProject('unused', '{ projections: [topology], http: { enabled: false } }', {
        topology: 'projections/topology.ts',
      });
      const env = { ...project.env };
      delete env.NATS_URL;
      delete env.PROSA_DB;
      delete env.PROSA_DATA_DIR;
      project.env = env;
      const child = spawnCli(project, ['run']);
      let err = '';
      child.stderr?.on('data', (c: Buffer) => {
        err += c.toString();
      });
      const record = join(project.dir, '.prosa', 'nats.json');
      for (let i = 0; i < 150 && !existsSync(record); i++) await sleep(100);
      expect(existsSync(record)).toBe(true);
      const { pid, url } = JSON.parse(readFileSync(record, 'utf8')) as { pid: number; url: string };
      expect(url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      expect(alive(pid)).toBe(true);

      // Another terminal: no NATS_URL, it finds the embedded server through the record.
      let status = await runCli(project, ['status', '--json']);
      for (let i = 0; i < 50 && JSON.parse(status.out || '{}').projections?.[0]?.state !== 'running'; i++) {
        await sleep(200);
        status = await runCli(project, ['status', '--json']);
      }
      expect(JSON.parse(status.out).projections[0]).toMatchObject({
        name: 'topology',
        state: 'running',
        streamLastSeq: 0,
      });
      expect(existsSync(join(project.dir, '.prosa', 'prosa.db'))).toBe(true);

      child.kill('SIGTERM');
      const code = await new Promise((r) => child.once('exit', r));
      expect(err).not.toContain('Error');
      expect(code).toBe(0);
      for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
      expect(alive(pid)).toBe(false);
      expect(existsSync(record)).toBe(false);
    });
  });
});
