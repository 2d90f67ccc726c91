/**
 * The `prosa` command. It only parses arguments, calls the runtime and the admin functions, and
 * prints what they return, so every command runs in-process in tests: `await main(['status'], io)`.
 * Each command lives in commands/<name>.ts, listed in catalog.ts; this file loads the one asked for
 * and maps errors to exit codes: 0 ok, 1 failure, 2 bad configuration or usage.
 */
import { Command, CommanderError, Help, Option } from 'commander';
import { commandCatalog, requestedCommand } from './catalog.js';
import { type CliIo, defaultIo, EXIT } from './io.js';

export { type CliIo, EXIT } from './io.js';

/**
 * The `prosa` program for `argv`: every command named and described, and the one asked for loaded
 * with its options and action (its module, and what it imports, only then).
 */
export async function buildCli(argv: readonly string[], io: CliIo = defaultIo()): Promise<Command> {
  const program = new Command('prosa')
    .description('Event-sourced read models and sagas on NATS JetStream')
    .option(
      '-c, --config <file>',
      'the runtime config (default: the first of runtime.config.ts, .mts, .js, .mjs)',
    )
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .configureHelp({
      subcommandTerm: (cmd) =>
        commandCatalog.find((c) => c.name === cmd.name())?.term ?? new Help().subcommandTerm(cmd),
    })
    .exitOverride()
    .showHelpAfterError();
  const requested = requestedCommand(argv);
  for (const entry of commandCatalog) {
    const command = program.command(entry.name).description(entry.description);
    if (entry === requested) {
      const [register, { createContext }] = await Promise.all([entry.load(), import('./context.js')]);
      register(command, createContext(program, io));
    }
  }
  program.addOption(new Option('--no-color', 'plain output').hideHelp());
  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  try {
    const program = await buildCli(argv, io);
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    return await exitCodeOf(e, io);
  }
}

/** Reports `e` on stderr as the user needs it (usage errors were already shown by commander). */
async function exitCodeOf(e: unknown, io: CliIo): Promise<number> {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
      return EXIT.ok;
    if (e.code.startsWith('prosa.')) {
      if (e.exitCode !== EXIT.ok) io.err(`${e.message}\n`);
      return e.exitCode;
    }
    return EXIT.usage;
  }
  // Loaded already by the command that threw (a usage error never gets here).
  const { ConfigError, isProsaError } = await import('../internal.js');
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
