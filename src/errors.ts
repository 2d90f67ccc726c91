/**
 * Every error prosa throws on purpose. Each has a stable `code`, a message that says what to do,
 * and (when it wraps one) the `cause`. The README's error table lists every code; a unit test keeps
 * the two in step.
 */

export const errorCodes = {
  PROSA_CONFIG_INVALID: 'A value in runtime.config.ts or the environment is not allowed.',
  PROSA_CONFIG_MISSING: 'No runtime config was found, or it has no default export.',
  PROSA_NATS_SERVER_NOT_FOUND: 'No nats-server binary was found for the embedded server or the tests.',
  PROSA_EMBEDDED_START_FAILED: 'The embedded nats-server child did not start.',
  PROSA_NATS_UNREACHABLE: 'The NATS server could not be reached in time.',
  PROSA_NATS_AUTH: 'The NATS server refused the credentials.',
  PROSA_JETSTREAM_DISABLED: 'The NATS server runs without JetStream.',
  PROSA_SERVER_TOO_OLD: 'A configured feature needs a newer nats-server than the one connected.',
  PROSA_STREAM_MISSING: 'A stream the runtime needs does not exist.',
  PROSA_STREAM_CHANGE_REFUSED:
    'A managed stream differs from its config in a way JetStream cannot change in place.',
  PROSA_VERSION_CONFLICT: "An append's expected version did not match the aggregate's version.",
  PROSA_APPEND_PARTIAL: 'Only part of an appended batch was stored.',
  PROSA_SQLITE: 'The SQLite database could not be opened or migrated.',
  PROSA_PROJECTION_INVALID: 'A projection or saga definition is not valid.',
  PROSA_TIMEOUT: 'An operation did not finish within its time limit.',
  PROSA_REBUILD_RUNNING: 'A rebuild of that projection is already running.',
  PROSA_WORKER_RUNNING: 'Another process already runs that projection or saga on the same database.',
  PROSA_NOT_FOUND: 'No projection, saga, instance or dead letter has that name or number.',
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class ProsaError extends Error {
  override readonly name: string = 'ProsaError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A bad configuration value. `path` is the field path, e.g. `streams.DLQ.maxAge`. */
export class ConfigError extends ProsaError {
  override readonly name = 'ConfigError';
  readonly issues: readonly { path: string; message: string }[];

  constructor(issues: readonly { path: string; message: string }[], source = 'runtime.config.ts') {
    super(
      'PROSA_CONFIG_INVALID',
      `invalid configuration (${source}):\n${issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
    );
    this.issues = issues;
  }
}

/** The aggregate's version was not the one the append expected. Nothing of the batch was stored. */
export class VersionConflictError extends ProsaError {
  override readonly name = 'VersionConflictError';
  constructor(
    readonly aggregateId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      'PROSA_VERSION_CONFLICT',
      `aggregate ${aggregateId}: expected version ${expectedVersion}, but it is at ${
        actualVersion === undefined ? 'another version' : `version ${actualVersion}`
      }; read the aggregate again, decide again, and append with the new version`,
      options,
    );
  }
}

/** Part of a pipelined batch landed: `appended` events (from the first) are stored, the rest are not. */
export class PartialAppendError extends ProsaError {
  override readonly name = 'PartialAppendError';
  constructor(
    readonly aggregateId: string,
    readonly appended: number,
    readonly total: number,
    readonly version: number,
    options?: { cause?: unknown },
  ) {
    super(
      'PROSA_APPEND_PARTIAL',
      `aggregate ${aggregateId}: ${appended} of ${total} events were stored (now at version ${version}); ` +
        'append the remaining events with expectedVersion set to that version',
      options,
    );
  }
}

export const isProsaError = (e: unknown): e is ProsaError => e instanceof ProsaError;

/**
 * An event that cannot be decoded or validated. Thrown by `decode` functions; the engine turns it
 * into a dead letter whose reason is this message, so say what was expected and what came.
 */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
  /**
   * Best effort, when the envelope and the entity ids decoded but the rest did not: the event as far
   * as it decoded, for `keys` or `correlate` to name its entities, so their later events wait
   * behind its dead letter. Undefined when the entities cannot be known.
   */
  readonly partialEvent: unknown;

  constructor(message: string, options?: { cause?: unknown; partialEvent?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.partialEvent = options?.partialEvent;
  }
}
