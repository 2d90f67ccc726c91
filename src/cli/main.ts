/**
 * The `prosa` command. It only parses arguments, calls the runtime and the admin functions, and
 * prints what they return, so every command runs in-process in tests: `await main(['status'], io)`.
 * Each command lives in commands/<name>.ts; this file assembles them and maps errors to exit codes:
 * 0 ok, 1 failure, 2 bad configuration or usage.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, isProsaError } from '../internal.js';
import { registerDemo } from './commands/demo.js';
import { registerDlq } from './commands/dlq.js';
import { registerDoctor } from './commands/doctor.js';
import { registerPause } from './commands/pause.js';
import { registerRebuild } from './commands/rebuild.js';
import { registerReset } from './commands/reset.js';
import { registerResume } from './commands/resume.js';
import { registerRun } from './commands/run.js';
import { registerSagas } from './commands/sagas.js';
import { registerSkip } from './commands/skip.js';
import { registerStatus } from './commands/status.js';
import { registerStreams } from './commands/streams.js';
import { registerTopology } from './commands/topology.js';
import { createContext } from './context.js';
import { type CliIo, defaultIo, EXIT } from './io.js';

export { type CliIo, EXIT } from './io.js';

/** In the order `prosa --help` lists them. */
const commands = [
  registerRun,
  registerStatus,
  registerDoctor,
  registerStreams,
  registerRebuild,
  registerPause,
  registerResume,
  registerReset,
  registerSkip,
  registerDlq,
  registerSagas,
  registerDemo,
  registerTopology,
];

export function buildCli(io: CliIo = defaultIo()): Command {
  const program = new Command('prosa')
    .description('Event-sourced read models and sagas on NATS JetStream')
    .option('-c, --config <file>', 'the runtime config', 'runtime.config.ts')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError();
  const ctx = createContext(program, io);
  for (const register of commands) register(program, ctx);
  program.addOption(new Option('--no-color', 'plain output').hideHelp());
  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const program = buildCli(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    return exitCodeOf(e, io);
  }
}

/** Reports `e` on stderr as the user needs it (usage errors were already shown by commander). */
function exitCodeOf(e: unknown, io: CliIo): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
      return EXIT.ok;
    if (e.code.startsWith('prosa.')) {
      if (e.exitCode !== EXIT.ok) io.err(`${e.message}\n`);
      return e.exitCode;
    }
    return EXIT.usage;
  }
  if (e instanceof ConfigError) {
    io.err(`ConfigError: ${e.message}\n`);
    return EXIT.usage;
  }
  if (isProsaError(e)) {
    io.err(`${e.name} ${e.code}: ${e.message}\n`);
    return e.code === 'PROSA_CONFIG_MISSING' ? EXIT.usage : EXIT.failure;
  }
  io.err(`${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT.failure;
}
