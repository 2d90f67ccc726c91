/**
 * Every default of prosa in one table: the config schema fills absent fields from it, and the
 * engines and the test kit fall back to it when used without a config. Durations are milliseconds,
 * sizes bytes.
 */
export const defaults = Object.freeze({
  worker: Object.freeze({
    batch: Object.freeze({
      /**
       * Most messages per transaction. A worker that is caught up commits each message as it comes
       * (`pending` 0); one that is behind fills batches, and a larger batch writes a key changed
       * several times once.
       */
      maxMessages: 10_000,
      /** Most message bytes per transaction, so a batch of large events stays bounded (64 MiB). */
      maxBytes: 64 * 2 ** 20,
      /** Longest a partial batch waits before it is committed. */
      maxWaitMs: 500,
    }),
    /** Live actors kept in memory; the least recently used are passivated past this. */
    maxActors: 10_000,
    /** What a bad event does: go to the dead letter stream (and on), or stop the worker. */
    onError: 'dead-letter' as 'dead-letter' | 'stop',
    /** Tries of a bad event, with exponential backoff from `backoffMs`, before `onError` applies. */
    retries: Object.freeze({ attempts: 0, backoffMs: 1_000 }),
    /**
     * Whether an entity's later events wait behind its dead letter (`ordered`: they apply once it
     * is retried or skipped) or are applied past it (`unordered`).
     */
    deadLetters: 'ordered' as 'ordered' | 'unordered',
    /** What a gap (messages dropped by the stream's limits before they were applied) does. */
    onGap: 'continue' as 'continue' | 'stop',
    /** The consumer's ack wait: must exceed the worst batch time. */
    ackWaitMs: 60_000,
    /** Must exceed batch.maxMessages (a batch plus the next pull in flight). */
    maxAckPending: 50_000,
    /**
     * How long a saga's published command stays in its outbox (1 hour): keep it at least as long
     * as the COMMANDS stream's duplicate window (1 hour by default). Together they keep a command
     * from being published twice: a publish repeated after a crash (before its row was marked) is
     * dropped by the stream's window, and a command emitted again (a replay after `prosa reset`) is
     * ignored while its row is kept. Past both, it would be published again.
     */
    publishedRetentionMs: 3_600_000,
    /** How long a fired or cancelled saga timer is kept (1 day). */
    timerRetentionMs: 86_400_000,
    /** How long a finished saga instance's compact record is kept (7 days). */
    finishedRetentionMs: 7 * 86_400_000,
    /**
     * A saga lease's time to live. The active process renews it every third of this; a standby
     * takes it over once it lapsed (by more than a tenth of it on the standby's clock), so a dead
     * process's saga is picked up about this long after its last renewal.
     */
    leaseTtlMs: 10_000,
  }),
  /** The NATS key-value bucket of saga leases (its stream is `KV_<bucket>`). */
  leaseBucket: 'prosa_leases',
  /** The NATS key-value bucket of fired saga timers, and how long an entry is kept (7 days). */
  timerJournal: Object.freeze({ bucket: 'prosa_timer_firings', maxAgeMs: 7 * 86_400_000 }),
  /** How a running saga worker deletes what its retentions let go. */
  prune: Object.freeze({
    /** How often it looks, by the runtime's clock (and once at start). */
    everyMs: 60_000,
    /** Most rows per delete, so one never holds the write lock long against a batch. */
    batchRows: 5_000,
  }),
  rebuild: Object.freeze({
    /** Messages per transaction of a rebuild: each writes an entity it changed once. */
    maxMessages: 100_000,
    /**
     * Message bytes per transaction of a rebuild (16 MiB): the messages of a transaction are held
     * until it commits. On 1,000,000 events, 32 MiB was no faster (25.3-26.1 s against 25.7-26.4)
     * and peaked 20-40 MB higher; 8 MiB was 5 % slower for no less memory.
     */
    maxBytes: 16 * 2 ** 20,
    /** Live actors while replaying (nothing else needs the memory then). */
    maxActors: 20_000,
  }),
  nats: Object.freeze({
    /** Connection name shown by the server. */
    name: 'prosa',
    /** How long one connect attempt waits for the server's answer. */
    connectTimeoutMs: 5_000,
    /**
     * Whether `prosa run` (createRuntime's start) waits for a configured server that is down or
     * not reachable yet, trying again with backoff, rather than failing after one attempt.
     * Credentials, TLS and a bad URL fail at once either way.
     */
    waitAtStart: true,
  }),
  /**
   * How far V8 may grow the heap past what its last full collection kept, in percent: 100 is a
   * factor of 2 where V8 alone goes up to 4 (see src/runtime/heapGrowth.ts); 0 leaves it to V8.
   */
  heapGrowthPercent: 100,
  /** Embedded server data, the SQLite file and the recorded URL live here. */
  dataDir: '.prosa',
  logLevel: 'info' as 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent',
  http: Object.freeze({
    enabled: true,
    host: '127.0.0.1',
    /** Where /healthz and /metrics answer (PROSA_HTTP_PORT); 0 picks a free port. */
    port: 9464,
    console: Object.freeze({
      /** The operator's console at `/` (same server as /metrics). */
      enabled: true,
      /**
       * Whether reads (status, dead letters, sagas, topology) need the token too; actions always do
       * once a token is set, and a console bound beyond loopback needs one.
       */
      protectReads: false,
      /** The shortest token accepted (PROSA_CONSOLE_TOKEN or http.console.token). */
      minTokenLength: 16,
      /** How often the page's live view (server-sent events) is refreshed. */
      refreshMs: 2_000,
      /** How many refreshes of lag the page's chart keeps (5 minutes at 2 s). */
      historySamples: 150,
    }),
  }),
  stream: Object.freeze({
    retention: 'limits' as const,
    storage: 'file' as const,
    /** 0: no limit. */
    maxAgeMs: 0,
    /** -1: no limit. */
    maxMsgs: -1,
    maxBytes: -1,
    /** The server's own default duplicate window (2 minutes). */
    duplicateWindowMs: 120_000,
    replicas: 1,
    discard: 'old' as const,
  }),
});
