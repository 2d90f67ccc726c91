/**
 * The runtime config: the one place a user chooses streams, projections, sagas, the SQLite path and
 * the NATS connection. Validated once at start (zod), environment overrides applied, then frozen.
 * A bad value fails naming the field and what is allowed (ConfigError, exit code 2).
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { defaults } from '../defaults.js';
import type { ProjectionDefinition, ProsaEvent } from '../define/projection.js';
import type { SagaDefinition } from '../define/saga.js';
import { ConfigError } from '../errors.js';
import { parseDuration } from '../time/duration.js';

// ---------------------------------------------------------------------------------------------
// Schema

const duration = (example = '"2m"') =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration like ${example}, got ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    return ms;
  });

const positiveInt = (what = 'a positive integer') =>
  z
    .number({ error: (i) => `must be ${what}, got ${JSON.stringify(i.input)}` })
    .int(`must be ${what}`)
    .positive(`must be ${what}`);

const streamSchema = z
  .object({
    /** `managed`: created and updated in place. `external`: created when absent, never changed. */
    mode: z.enum(['managed', 'external'], { error: 'must be "managed" or "external"' }).default('managed'),
    subjects: z
      .array(z.string().min(1), { error: 'must be a list of subjects' })
      .min(1, 'must name at least one subject'),
    retention: z
      .enum(['limits', 'workqueue', 'interest'], { error: 'must be "limits", "workqueue" or "interest"' })
      .default(defaults.stream.retention),
    storage: z
      .enum(['file', 'memory'], { error: 'must be "file" or "memory"' })
      .default(defaults.stream.storage),
    /** 0 = no limit. */
    maxAge: duration('"7d"').default(defaults.stream.maxAgeMs),
    /** -1 = no limit. */
    maxMsgs: z.number().int().min(-1, 'must be -1 (no limit) or more').default(defaults.stream.maxMsgs),
    maxBytes: z.number().int().min(-1, 'must be -1 (no limit) or more').default(defaults.stream.maxBytes),
    duplicateWindow: duration('"2m"').default(defaults.stream.duplicateWindowMs),
    replicas: z.number().int().min(1).max(5, 'must be 1 to 5').default(defaults.stream.replicas),
    discard: z.enum(['old', 'new'], { error: 'must be "old" or "new"' }).default(defaults.stream.discard),
  })
  .strict();

const batchSchema = z
  .object({
    /**
     * Most messages per transaction. A worker that is caught up commits each message as it comes
     * (`pending` 0); one that is behind fills batches, and a larger batch writes a key changed
     * several times once. @default 10_000
     */
    maxMessages: positiveInt().default(defaults.worker.batch.maxMessages),
    /** Most message bytes per transaction, so a batch of large events stays bounded. @default 64 MiB */
    maxBytes: positiveInt().default(defaults.worker.batch.maxBytes),
    /** Longest a partial batch waits before it is committed. @default 500 */
    maxWaitMs: positiveInt().default(defaults.worker.batch.maxWaitMs),
  })
  .strict();

const workerSchema = z
  .object({
    batch: batchSchema.prefault({}),
    /** Live actors kept in memory; the least recently used are passivated past this. @default 10_000 */
    maxActors: positiveInt().default(defaults.worker.maxActors),
    /** Durable consumer name. @default the projection or saga name */
    consumer: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'must match [A-Za-z0-9_-]+')
      .optional(),
    /** What a bad event does: go to the dead letter stream (and on), or stop the worker. @default 'dead-letter' */
    onError: z
      .enum(['dead-letter', 'stop'], { error: 'must be "dead-letter" or "stop"' })
      .default(defaults.worker.onError),
    /** Tries of a bad event, with exponential backoff from `backoff`, before `onError` applies. @default { attempts: 0, backoff: '1s' } */
    retries: z
      .object({
        attempts: z.number().int().min(0, 'must be 0 or more').default(defaults.worker.retries.attempts),
        backoff: duration('"1s"').default(defaults.worker.retries.backoffMs),
      })
      .strict()
      .prefault({}),
    /**
     * `ordered`: when a bad event's entities are known, their later events wait behind its dead
     * letter until it is retried or skipped; `unordered`: they are applied past it. @default 'ordered'
     */
    deadLetters: z
      .enum(['ordered', 'unordered'], { error: 'must be "ordered" or "unordered"' })
      .default(defaults.worker.deadLetters),
    /** What a gap (messages dropped by the stream's limits before they were applied) does. @default 'continue' */
    onGap: z
      .enum(['continue', 'stop'], { error: 'must be "continue" or "stop"' })
      .default(defaults.worker.onGap),
    /** Must exceed the worst batch time. @default '60s' */
    ackWait: duration('"60s"').default(defaults.worker.ackWaitMs),
    /** Must exceed batch.maxMessages (a batch plus the next pull in flight). @default 50_000 */
    maxAckPending: positiveInt().default(defaults.worker.maxAckPending),
    /** Saga timeouts by name, e.g. `{ stuck: '5m' }`. */
    timeouts: z.record(z.string(), duration('"5m"')).default({}),
    /**
     * How long a saga's published command stays in its outbox before it is deleted. Keep it at
     * least as long as the COMMANDS stream's duplicateWindow: a command emitted again (a replay after
     * `prosa reset`) is ignored while its row is kept, and a publish repeated after a crash is
     * dropped by the window. @default '1h'
     */
    publishedRetention: duration('"1h"').default(defaults.worker.publishedRetentionMs),
    /** How long a saga's fired or cancelled timer is kept before it is deleted. @default '1d' */
    timerRetention: duration('"1d"').default(defaults.worker.timerRetentionMs),
    /** How long a finished saga instance's compact record is kept. @default '7d' */
    finishedRetention: duration('"7d"').default(defaults.worker.finishedRetentionMs),
    /**
     * A saga lease's time to live when several processes run it: the active one renews it every
     * third of this, and a standby takes over about this long after the active one stopped
     * renewing. @default '10s'
     */
    leaseTtl: duration('"10s"').default(defaults.worker.leaseTtlMs),
  })
  .strict();

const natsSchema = z
  .object({
    /** Server URL(s), comma separated. Absent: the embedded server. */
    url: z.string().min(1).optional(),
    /** Connection name shown by the server. @default 'prosa' */
    name: z.string().default(defaults.nats.name),
    user: z.string().optional(),
    password: z.string().optional(),
    token: z.string().optional(),
    /** Path to a .creds file (JWT + nkey seed). */
    credsFile: z.string().optional(),
    /** An nkey seed (SU...), or a path to a file holding one. */
    nkeySeed: z.string().optional(),
    tls: z
      .object({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional() })
      .strict()
      .optional(),
    /** How long one connect attempt waits for the server's answer. @default '5s' */
    connectTimeout: duration('"5s"').default(defaults.nats.connectTimeoutMs),
    /**
     * `prosa run` waits for a server that refuses or does not answer, trying again with backoff;
     * false fails the start after one attempt instead. Credentials, TLS and a bad URL fail at once
     * either way; one-shot commands never wait. @default true
     */
    waitAtStart: z.boolean({ error: 'must be true or false' }).default(defaults.nats.waitAtStart),
  })
  .strict();

const DEFAULT_STREAMS = {
  INFRASTRUCTURE_EVENTS: {
    mode: 'external',
    subjects: ['infrastructure.>'],
    retention: 'limits',
    storage: 'file',
    maxAge: '1y',
    maxMsgs: 1_000_000,
    duplicateWindow: '2m',
  },
  DLQ: { mode: 'managed', subjects: ['dlq.>'], maxAge: '7d', duplicateWindow: '1h' },
  COMMANDS: { mode: 'managed', subjects: ['commands.>'], retention: 'workqueue', duplicateWindow: '1h' },
} as const;

const definitionList = (kind: string) =>
  z
    .array(
      z.custom<{ name: string }>(
        (v) => typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string',
        `must be a ${kind} definition (define${kind[0]?.toUpperCase()}${kind.slice(1)}({...}))`,
      ),
    )
    .default([]);

const configSchema = z
  .object({
    nats: natsSchema.prefault({}),
    /**
     * This process's name among several that share one NATS (PROSA_INSTANCE): each durable
     * consumer is then named `<consumer>-<instance>`, so the processes do not share (and steal
     * each other's messages from) one durable. @default none: one process, durables named as the workers
     */
    instance: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'must match [A-Za-z0-9_-]+')
      .optional(),
    /**
     * The projections and sagas this process runs, by name (PROSA_ONLY or `prosa run --only`): the
     * others run in other processes on the same database and NATS. @default every one configured
     */
    only: z.array(z.string().min(1)).min(1, 'must name at least one projection or saga').optional(),
    /**
     * How far the process's heap may grow past what V8's last full collection kept, in percent
     * (V8's --heap-growing-percent): lower holds less memory for more collections; 0 leaves it to
     * V8, which lets it reach 3-4x. @default 100
     */
    heapGrowthPercent: z.number().int().min(0).max(1_000).default(defaults.heapGrowthPercent),
    /** Embedded server data, the SQLite file and the recorded URL live here. @default '.prosa' */
    dataDir: z.string().min(1).default(defaults.dataDir),
    sqlite: z
      .object({ path: z.string().min(1).optional() })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z
          .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
            error: 'must be one of trace, debug, info, warn, error, fatal, silent',
          })
          .default(defaults.logLevel),
      })
      .strict()
      .prefault({}),
    streams: z
      .record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'stream names must match [A-Za-z0-9_-]+'), z.unknown())
      .default({}),
    projections: definitionList('projection'),
    sagas: definitionList('saga'),
    /** Options for every projection and saga. */
    defaults: z.record(z.string(), z.unknown()).default({}),
    /** Options for one projection or saga by name, over `defaults`. */
    workers: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
    http: z
      .object({
        enabled: z.boolean().default(defaults.http.enabled),
        host: z.string().default(defaults.http.host),
        /** 0 picks a free port; PROSA_HTTP_PORT overrides it. @default 9464 */
        port: z.number().int().min(0).max(65_535, 'must be a port 0-65535').default(defaults.http.port),
        /** The operator's console served at `/` beside /metrics. */
        console: z
          .object({
            enabled: z.boolean().default(defaults.http.console.enabled),
            /** Needed for every action once set, and to start at all when `host` is not loopback; PROSA_CONSOLE_TOKEN overrides it. */
            token: z
              .string()
              .min(
                defaults.http.console.minTokenLength,
                `must be at least ${defaults.http.console.minTokenLength} characters (e.g. \`openssl rand -hex 24\`)`,
              )
              .optional(),
            /** Whether reads need the token too. @default false */
            protectReads: z.boolean().default(defaults.http.console.protectReads),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

// ---------------------------------------------------------------------------------------------
// Types

/** What a user writes in runtime.config.ts. Every field is optional. */
export interface ProsaConfigInput {
  nats?: z.input<typeof natsSchema>;
  dataDir?: string;
  /** This process's name among several on one NATS (PROSA_INSTANCE); durables get it as a suffix. */
  instance?: string;
  /** The projections and sagas this process runs (PROSA_ONLY); the others run elsewhere. @default all */
  only?: readonly string[];
  /** How far the heap may grow past what the last full collection kept, in percent (0: V8 decides). @default 100 */
  heapGrowthPercent?: number;
  sqlite?: { path?: string };
  log?: { level?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' };
  /** Streams by name, merged over the defaults (INFRASTRUCTURE_EVENTS, DLQ, COMMANDS). */
  streams?: Record<string, Partial<z.input<typeof streamSchema>>>;
  // biome-ignore lint/suspicious/noExplicitAny: definitions of any event type are accepted here.
  projections?: readonly ProjectionDefinition<any, any>[];
  // biome-ignore lint/suspicious/noExplicitAny: definitions of any event type are accepted here.
  sagas?: readonly SagaDefinition<any, any, any>[];
  defaults?: Partial<z.input<typeof workerSchema>>;
  workers?: Record<string, Partial<z.input<typeof workerSchema>>>;
  http?: Partial<z.input<typeof configSchema.shape.http>>;
}

export type StreamConfig = z.output<typeof streamSchema>;
export type WorkerOptions = z.output<typeof workerSchema>;
export type NatsOptions = z.output<typeof natsSchema>;

export interface ResolvedConfig {
  readonly nats: Readonly<NatsOptions>;
  readonly dataDir: string;
  readonly sqlitePath: string;
  readonly logLevel: z.output<typeof configSchema>['log']['level'];
  readonly streams: Readonly<Record<string, Readonly<StreamConfig>>>;
  readonly projections: readonly ProjectionDefinition<ProsaEvent, string>[];
  readonly sagas: readonly SagaDefinition<ProsaEvent, string, string>[];
  /** Options of each projection and saga by name (defaults applied). */
  readonly workers: Readonly<Record<string, Readonly<WorkerOptions>>>;
  /** The projections and sagas `prosa run` runs in this process (see {@link workersToRun}); absent: all. */
  readonly only?: readonly string[];
  /** V8's heap growing percent for the process running these workers (0: V8 decides). */
  readonly heapGrowthPercent: number;
  readonly http: Readonly<z.output<typeof configSchema>['http']>;
  /** Where the config came from, for messages. */
  readonly source: string;
}

/** Typed identity for runtime.config.ts. */
export function defineConfig(config: ProsaConfigInput): ProsaConfigInput {
  return config;
}

// ---------------------------------------------------------------------------------------------
// Resolution

type Env = Readonly<Record<string, string | undefined>>;

/** A port number from PROSA_HTTP_PORT, or an issue naming the variable. */
function envPort(value: string, issues: { path: string; message: string }[]): number | undefined {
  const port = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (port <= 65_535) return port;
  issues.push({
    path: 'PROSA_HTTP_PORT',
    message: `must be a port 0-65535 (0 picks a free one), got ${JSON.stringify(value)}`,
  });
  return undefined;
}

function envOverrides(env: Env, issues: { path: string; message: string }[]): Record<string, unknown> {
  const nats: Record<string, unknown> = {};
  const set = (key: string, name: string) => {
    const v = env[name];
    if (v !== undefined && v !== '') nats[key] = v;
  };
  set('url', 'NATS_URL');
  set('user', 'NATS_USER');
  set('password', 'NATS_PASSWORD');
  set('token', 'NATS_TOKEN');
  set('credsFile', 'NATS_CREDS');
  set('nkeySeed', 'NATS_NKEY_SEED');
  const tls: Record<string, string> = {};
  if (env.NATS_CA) tls.ca = env.NATS_CA;
  if (env.NATS_CERT) tls.cert = env.NATS_CERT;
  if (env.NATS_KEY) tls.key = env.NATS_KEY;
  if (Object.keys(tls).length > 0) nats.tls = tls;
  const out: Record<string, unknown> = { nats };
  if (env.PROSA_DATA_DIR) out.dataDir = env.PROSA_DATA_DIR;
  if (env.PROSA_DB) out.sqlite = { path: env.PROSA_DB };
  if (env.PROSA_INSTANCE) out.instance = env.PROSA_INSTANCE;
  if (env.PROSA_ONLY) out.only = splitNames(env.PROSA_ONLY);
  if (env.LOG_LEVEL) out.log = { level: env.LOG_LEVEL };
  const http: Record<string, unknown> = {};
  if (env.PROSA_HTTP_PORT) {
    const port = envPort(env.PROSA_HTTP_PORT, issues);
    if (port !== undefined) http.port = port;
  }
  if (env.PROSA_CONSOLE_TOKEN) http.console = { token: env.PROSA_CONSOLE_TOKEN };
  if (Object.keys(http).length > 0) out.http = http;
  return out;
}

/** `a, b,c` -> ['a', 'b', 'c'] (PROSA_ONLY, `--only`). */
export const splitNames = (list: string): string[] =>
  list
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

function merge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
  return out;
}

/** `PROSA_<SAGA>_TIMEOUT` (e.g. PROSA_DECOMMISSION_TIMEOUT=3s) sets every timeout of that saga. */
export const timeoutVariable = (saga: string): string =>
  `PROSA_${saga.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_TIMEOUT`;

function sagaTimeoutOverride(def: { name: string; timeouts?: unknown }, env: Env): Record<string, unknown> {
  const value = env[timeoutVariable(def.name)];
  if (!value || typeof def.timeouts !== 'object' || def.timeouts === null) return {};
  return { timeouts: Object.fromEntries(Object.keys(def.timeouts).map((name) => [name, value])) };
}

const pathOf = (prefix: readonly PropertyKey[], path: readonly PropertyKey[]) =>
  [...prefix, ...path].map(String).join('.');

function issuesOf(error: z.ZodError, prefix: readonly PropertyKey[] = []) {
  return error.issues.map((i) => {
    let message = i.message;
    if (i.code === 'unrecognized_keys')
      message = `unknown field(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    return { path: pathOf(prefix, i.path), message };
  });
}

export interface ResolveConfigOptions {
  env?: Env;
  /** Relative paths (dataDir, sqlite.path) resolve against this. @default process.cwd() */
  cwd?: string;
  source?: string;
}

/** Validates a config, applies environment overrides and defaults, and freezes the result. */
export function resolveConfig(input: unknown, options: ResolveConfigOptions = {}): ResolvedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const source = options.source ?? 'runtime.config.ts';
  if (!isPlainObject(input))
    throw new ConfigError(
      [{ path: '', message: 'the default export must be an object (defineConfig({...}))' }],
      source,
    );

  const issues: { path: string; message: string }[] = [];
  const parsed = configSchema.safeParse(merge(input, envOverrides(env, issues)));
  if (!parsed.success) throw new ConfigError([...issues, ...issuesOf(parsed.error)], source);
  const c = parsed.data;

  const streams: Record<string, StreamConfig> = {};
  const rawStreams = merge(DEFAULT_STREAMS, c.streams) as Record<string, unknown>;
  for (const [name, raw] of Object.entries(rawStreams)) {
    const r = streamSchema.safeParse(raw);
    if (r.success) streams[name] = Object.freeze(r.data);
    else issues.push(...issuesOf(r.error, ['streams', name]));
  }

  const workers: Record<string, WorkerOptions> = {};
  const names = new Set<string>();
  const definitions = [
    ...c.projections.map((d) => ['projections', d] as const),
    ...c.sagas.map((d) => ['sagas', d] as const),
  ];
  definitions.forEach(([list, def], index) => {
    const variable = timeoutVariable(def.name);
    if (list === 'sagas' && env[variable] && parseDuration(env[variable] as string) === undefined) {
      issues.push({
        path: variable,
        message: `expected a duration like "3s", got ${JSON.stringify(env[variable])}`,
      });
      return;
    }
    if (names.has(def.name))
      issues.push({
        path: `${list}.${index}.name`,
        message: `"${def.name}" is used twice; names must be unique`,
      });
    names.add(def.name);
    const r = workerSchema.safeParse(
      merge(merge(c.defaults, c.workers[def.name] ?? {}), sagaTimeoutOverride(def, env)),
    );
    if (r.success) {
      const batch = r.data.batch;
      if (r.data.maxAckPending <= batch.maxMessages) {
        issues.push({
          path: `workers.${def.name}.maxAckPending`,
          message: `must exceed batch.maxMessages (${batch.maxMessages}), got ${r.data.maxAckPending}`,
        });
      }
      const consumer = r.data.consumer ?? def.name;
      workers[def.name] = Object.freeze({
        ...r.data,
        consumer: c.instance ? `${consumer}-${c.instance}` : consumer,
      });
    } else issues.push(...issuesOf(r.error, c.workers[def.name] ? ['workers', def.name] : ['defaults']));
    const stream = (def as { source?: { stream?: string } }).source?.stream;
    if (stream && !streams[stream] && !issues.some((i) => i.path.startsWith(`streams.${stream}`))) {
      issues.push({
        path: `${list}.${index}.source.stream`,
        message: `names stream "${stream}", which is not in streams (known: ${Object.keys(streams).join(', ')})`,
      });
    }
  });
  for (const name of Object.keys(c.workers)) {
    if (!names.has(name))
      issues.push({
        path: `workers.${name}`,
        message: `no projection or saga is named "${name}" (known: ${[...names].join(', ') || 'none'})`,
      });
  }
  const onlyWrong = c.only && onlyIssue(c.only, names);
  if (onlyWrong) issues.push({ path: env.PROSA_ONLY ? 'PROSA_ONLY' : 'only', message: onlyWrong });
  if (c.nats.token !== undefined && c.nats.user !== undefined) {
    issues.push({ path: 'nats.token', message: 'token and user/password are mutually exclusive; set one' });
  }
  if (c.nats.password !== undefined && c.nats.user === undefined) {
    issues.push({ path: 'nats.user', message: 'a password needs a user (NATS_USER)' });
  }
  if (c.http.console.protectReads && c.http.console.token === undefined) {
    issues.push({
      path: 'http.console.protectReads',
      message: 'reads can only be guarded by a token: set http.console.token or PROSA_CONSOLE_TOKEN',
    });
  }
  if (issues.length > 0) throw new ConfigError(issues, source);

  const dataDir = isAbsolute(c.dataDir) ? c.dataDir : resolve(cwd, c.dataDir);
  const sqlitePath = c.sqlite.path
    ? isAbsolute(c.sqlite.path)
      ? c.sqlite.path
      : resolve(cwd, c.sqlite.path)
    : resolve(dataDir, 'prosa.db');
  return Object.freeze({
    nats: Object.freeze({ ...c.nats, tls: c.nats.tls && Object.freeze(c.nats.tls) }),
    dataDir,
    sqlitePath,
    logLevel: c.log.level,
    streams: Object.freeze(streams),
    projections: Object.freeze([...c.projections]) as unknown as readonly ProjectionDefinition<
      ProsaEvent,
      string
    >[],
    sagas: Object.freeze([...c.sagas]) as unknown as readonly SagaDefinition<ProsaEvent, string, string>[],
    workers: Object.freeze(workers),
    ...(c.only ? { only: Object.freeze([...new Set(c.only)]) } : {}),
    heapGrowthPercent: c.heapGrowthPercent,
    http: Object.freeze({ ...c.http, console: Object.freeze(c.http.console) }),
    source,
  });
}

/** What is wrong with `only`, or undefined: it names configured projections and sagas. */
function onlyIssue(only: readonly string[], known: ReadonlySet<string>): string | undefined {
  if (only.length === 0) return 'must name at least one projection or saga';
  const unknown = only.filter((n) => !known.has(n));
  if (unknown.length === 0) return undefined;
  return `no projection or saga is named ${unknown.map((n) => `"${n}"`).join(', ')} (known: ${[...known].join(', ') || 'none'})`;
}

/**
 * The config with the projections and sagas this process runs (`only`), or as it is. Several
 * processes can share one database and NATS this way, each running some of the workers on a core
 * of its own; each worker runs in one process (its claim in `prosa_workers` refuses a second).
 */
export function workersToRun(config: ResolvedConfig, only = config.only): ResolvedConfig {
  if (only === undefined) return config;
  const wrong = onlyIssue(only, new Set([...config.projections, ...config.sagas].map((d) => d.name)));
  if (wrong) throw new ConfigError([{ path: 'only', message: wrong }], config.source);
  const runs = (d: { name: string }) => only.includes(d.name);
  return Object.freeze({
    ...config,
    projections: Object.freeze(config.projections.filter(runs)),
    sagas: Object.freeze(config.sagas.filter(runs)),
    only: Object.freeze([...new Set(only)]),
  });
}
