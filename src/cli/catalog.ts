/**
 * Every command's name, help line and module, and nothing else: `prosa --help` lists them from here,
 * and `main` loads only the module of the command asked for, so no command pays for the runtime,
 * SQLite or NATS clients of another (nor `--help` for any).
 */
import type { Command } from 'commander';
import type { CliContext } from './context.js';

/** Adds a command's arguments, options and action to `command` (already named and described). */
export type RegisterCommand = (command: Command, ctx: CliContext) => void;

export interface CommandEntry {
  name: string;
  /** How `prosa --help` lists it: the name, `[options]` when it has some, its arguments. */
  term: string;
  description: string;
  load: () => Promise<RegisterCommand>;
}

/** In the order `prosa --help` lists them. */
export const commandCatalog: readonly CommandEntry[] = [
  {
    name: 'run',
    term: 'run',
    description:
      'run every projection and saga of the config (or --only some) until SIGINT/SIGTERM (then drain and exit 0)',
    load: async () => (await import('./commands/run.js')).registerRun,
  },
  {
    name: 'status',
    term: 'status [options]',
    description: 'checkpoint, lag, dead letters and state of each projection and saga',
    load: async () => (await import('./commands/status.js')).registerStatus,
  },
  {
    name: 'doctor',
    term: 'doctor',
    description:
      'check NATS, JetStream, the server version, the streams and the SQLite path; print the fix for each failure',
    load: async () => (await import('./commands/doctor.js')).registerDoctor,
  },
  {
    name: 'streams',
    term: 'streams',
    description: 'the streams of the config',
    load: async () => (await import('./commands/streams.js')).registerStreams,
  },
  {
    name: 'rebuild',
    term: 'rebuild [options] <projection>',
    description: 'rebuild a projection from the stream beside the live model, then swap it in atomically',
    load: async () => (await import('./commands/rebuild.js')).registerRebuild,
  },
  {
    name: 'pause',
    term: 'pause [options] <name>',
    description: 'stop a projection or saga after its batch at hand (kept across restarts until resumed)',
    load: async () => (await import('./commands/pause.js')).registerPause,
  },
  {
    name: 'resume',
    term: 'resume <name>',
    description: 'resume a paused or stopped projection or saga from its checkpoint',
    load: async () => (await import('./commands/resume.js')).registerResume,
  },
  {
    name: 'handover',
    term: 'handover <saga>',
    description:
      "the process holding a saga's lease gives it up at once, so a standby process takes over its dispatch and timers",
    load: async () => (await import('./commands/handover.js')).registerHandover,
  },
  {
    name: 'reset',
    term: 'reset [options] <saga>',
    description:
      'move a saga back to a stream sequence; it consumes again after it (projections: use rebuild)',
    load: async () => (await import('./commands/reset.js')).registerReset,
  },
  {
    name: 'skip',
    term: 'skip [options] <name>',
    description: 'step a stopped worker over a bad message (it is dead-lettered), then resume it',
    load: async () => (await import('./commands/skip.js')).registerSkip,
  },
  {
    name: 'dlq',
    term: 'dlq',
    description: 'dead letters: events that could not be decoded or applied',
    load: async () => (await import('./commands/dlq.js')).registerDlq,
  },
  {
    name: 'sagas',
    term: 'sagas',
    description: 'saga instances and their timeouts',
    load: async () => (await import('./commands/sagas.js')).registerSagas,
  },
  {
    name: 'demo',
    term: 'demo [options]',
    description:
      'publish a small data centre as CIM infrastructure events to INFRASTRUCTURE_EVENTS, as the CIM crates do',
    load: async () => (await import('./commands/demo.js')).registerDemo,
  },
  {
    name: 'topology',
    term: 'topology [options]',
    description: 'print the topology read model: counts, and the active resources, networks and connections',
    load: async () => (await import('./commands/topology.js')).registerTopology,
  },
  {
    name: 'init',
    term: 'init [options] [dir]',
    description: 'scaffold a project that uses prosa: a config, one projection with its test, a README',
    load: async () => (await import('./commands/init.js')).registerInit,
  },
];

/**
 * The command `argv` asks for (`prosa help <command>` included), skipping the global options, or
 * undefined for `prosa`, `prosa --help` and unknown names (commander reports those).
 */
export function requestedCommand(argv: readonly string[]): CommandEntry | undefined {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') break;
    if (arg === '-c' || arg === '--config') i++;
    else if (!arg.startsWith('-')) words.push(arg);
  }
  const name = words[0] === 'help' ? words[1] : words[0];
  return commandCatalog.find((c) => c.name === name);
}
