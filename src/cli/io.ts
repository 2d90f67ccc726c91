/** Where the `prosa` command writes, and the exit codes it returns. */
import { CommanderError } from 'commander';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); `run` and `status --watch` end then. */
  stopSignal?: Promise<string>;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Whether a person is at the terminal (progress bars, colours). @default stdout is a TTY and CI is not set */
  tty?: boolean;
}

export const defaultIo = (): CliIo => ({
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
});

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** A failure `main` reports as its message alone, with exit code 1. */
export const fail = (code: string, message: string): CommanderError =>
  new CommanderError(EXIT.failure, `prosa.${code}`, message);
