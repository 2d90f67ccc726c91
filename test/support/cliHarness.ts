/**
 * The `prosa` command against a test server: a runtime.config.ts written into a temporary project
 * folder (importing this repo's projections and sagas by absolute path), run in-process with
 * `runCli([...])` or as a real child process with `spawnCli([...])`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { main } from '../../src/cli/main.js';
import { tempDir } from './runtimeHarness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const repoPath = (relative: string): string => pathToFileURL(join(root, relative)).href;

export interface CliProject {
  dir: string;
  configPath: string;
  sqlitePath: string;
  env: NodeJS.ProcessEnv;
}

/** A project folder whose runtime.config.ts has `body` (TypeScript, after the imports) as its default export. */
export function cliProject(natsUrl: string, body: string, imports: Record<string, string> = {}): CliProject {
  const dir = tempDir('prosa-cli-');
  const lines = Object.entries(imports).map(([name, file]) => `import ${name} from '${repoPath(file)}';`);
  const configPath = join(dir, 'runtime.config.ts');
  writeFileSync(configPath, `${lines.join('\n')}\nexport default ${body};\n`);
  // A project of its own, as a user's is: an ES module package.
  writeFileSync(
    join(dir, 'package.json'),
    '{ "name": "prosa-cli-test", "private": true, "type": "module" }\n',
  );
  const sqlitePath = join(dir, 'prosa.db');
  return {
    dir,
    configPath,
    sqlitePath,
    env: {
      ...process.env,
      NATS_URL: natsUrl,
      PROSA_DB: sqlitePath,
      PROSA_DATA_DIR: join(dir, '.prosa'),
      LOG_LEVEL: 'warn',
    },
  };
}

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs `prosa <args>` in-process. */
export async function runCli(
  project: CliProject,
  args: string[],
  stopSignal?: Promise<string>,
): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await main(['--config', project.configPath, ...args], {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    env: project.env,
    cwd: project.dir,
    tty: false,
    ...(stopSignal ? { stopSignal } : {}),
  });
  return { code, out, err };
}

/** Runs `prosa <args>` as a child process (bin/prosa.js), as a user would. */
export function spawnCli(project: CliProject, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [join(root, 'bin/prosa.js'), '--config', project.configPath, ...args], {
    cwd: project.dir,
    env: { ...project.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
