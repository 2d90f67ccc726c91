/**
 * Streams from runtime.config.ts (docs/architecture.md#streams-owned-by-others-are-left-alone).
 * Each is `managed` or `external`:
 *
 * - `managed` (DLQ, COMMANDS by default): created when absent, updated in place when the config
 *   changes. A change JetStream cannot make in place (storage type, retention) fails with
 *   `PROSA_STREAM_CHANGE_REFUSED` before anything is touched, naming the way out.
 * - `external` (INFRASTRUCTURE_EVENTS by default, which the CIM crates own): get-or-create. Created
 *   with the configured settings when absent, never changed when present; its differences from the
 *   config are logged at warn and returned in the report (and shown by `prosa doctor`).
 *
 * Only the settings runtime.config.ts has are compared and changed; anything else on a stream
 * (a description, placement, sources) is kept as it is.
 */
import {
  JetStreamApiError,
  type JetStreamManager,
  type StreamConfig as JsStreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { millis, type NatsConnection, nanos } from '@nats-io/transport-node';
import type { StreamConfig } from '../config/config.js';
import { ProsaError } from '../errors.js';
import type { Logger } from '../logger.js';
import { formatDuration } from '../time/duration.js';
import {
  compareVersions,
  formatVersion,
  requireJetStream,
  requireServerVersion,
  type ServerVersion,
  serverVersion,
} from './connection.js';

export type StreamMode = StreamConfig['mode'];

/**
 * Stream settings that need a server newer than prosa's floor (2.9). Each is checked against the
 * connected server before use and fails with `PROSA_SERVER_TOO_OLD` there.
 */
export interface NewerStreamSettings {
  /** Store compression. Needs nats-server 2.10. */
  compression?: 'none' | 's2';
  /** Free-form metadata. Needs nats-server 2.10. Keys starting with `_nats` are the server's. */
  metadata?: Record<string, string>;
}

/** A stream as runtime.config.ts describes it (durations in ms). */
export type StreamSettings = StreamConfig & NewerStreamSettings;

/** The settings prosa compares, named as in runtime.config.ts. */
export type StreamSetting = Exclude<keyof StreamSettings, 'mode'>;

export interface StreamDifference {
  setting: StreamSetting;
  /** What runtime.config.ts says (durations in ms). */
  configured: unknown;
  /** What the stream on the server has (durations in ms). */
  actual: unknown;
  /** Whether JetStream can change it in place (a stream update). */
  inPlace: boolean;
}

export interface StreamReport {
  name: string;
  mode: StreamMode;
  /**
   * `created`: it was absent. `updated`: a managed stream was changed in place to match the config.
   * `unchanged`: it matched. `left-as-is`: an external stream differs and was not touched.
   */
  action: 'created' | 'updated' | 'unchanged' | 'left-as-is';
  /** What differed before the action (for `updated`: what was changed). */
  differences: StreamDifference[];
}

export interface StreamListing {
  name: string;
  /** `unconfigured`: on the server but not in runtime.config.ts. */
  mode: StreamMode | 'unconfigured';
  /** False for a configured stream that does not exist (yet). */
  present: boolean;
  subjects: string[];
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
  consumers: number;
  /** Undefined for an unconfigured or absent stream. */
  matchesConfig: boolean | undefined;
  differences: StreamDifference[];
}

/** Settings that need a newer server, and the version each needs. */
const NEWER_SETTINGS: Record<keyof NewerStreamSettings, ServerVersion> = {
  compression: [2, 10, 0],
  metadata: [2, 10, 0],
};

/** JetStream API error codes (nats-server's errors.json). */
const JS_STREAM_NAME_IN_USE = 10058;
const JS_STREAM_SUBJECT_OVERLAP = 10065;
const JS_STREAM_NOT_FOUND = 10059;

// ---------------------------------------------------------------------------------------------
// Pure: config <-> JetStream

/**
 * The duplicate window the server will hold: it refuses one longer than `max_age`, so a window
 * longer than a non-zero maxAge (e.g. the 2 min default on a 1 min stream) is cut to maxAge.
 */
export const effectiveDuplicateWindow = (config: Pick<StreamConfig, 'maxAge' | 'duplicateWindow'>): number =>
  config.maxAge > 0 ? Math.min(config.duplicateWindow, config.maxAge) : config.duplicateWindow;

/** The JetStream config for a stream of runtime.config.ts. */
export function toJetStreamConfig(
  name: string,
  config: StreamSettings,
): Partial<JsStreamConfig> & { name: string } {
  const js: Partial<JsStreamConfig> & { name: string } = {
    name,
    subjects: [...config.subjects],
    retention: config.retention,
    storage: config.storage,
    max_age: nanos(config.maxAge),
    max_msgs: config.maxMsgs,
    max_bytes: config.maxBytes,
    duplicate_window: nanos(effectiveDuplicateWindow(config)),
    num_replicas: config.replicas,
    discard: config.discard,
  };
  if (config.compression !== undefined) js.compression = config.compression;
  if (config.metadata !== undefined) js.metadata = { ...config.metadata };
  return js;
}

/** Whether JetStream changes a setting in place (nats-server 2.9.10 refuses storage and retention). */
function changesInPlace(
  setting: StreamSetting,
  from: unknown,
  to: unknown,
  version?: ServerVersion,
): boolean {
  if (setting === 'storage') return false;
  if (setting === 'retention') {
    // 2.10 allows limits <-> interest; work-queue never changes. 2.9 refuses every change.
    const v = version ?? [2, 9, 0];
    return compareVersions(v, [2, 10, 0]) >= 0 && from !== 'workqueue' && to !== 'workqueue';
  }
  return true;
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join('\u0000') === [...b].sort().join('\u0000');

/**
 * What differs between a stream of runtime.config.ts and the stream on the server (pure). Only the
 * settings the config has are compared; subjects compare as a set; durations in ms.
 * @param options.serverVersion judges what changes in place. @default the 2.9 floor (strictest)
 */
export function diffStream(
  config: StreamSettings,
  actual: StreamInfo | JsStreamConfig,
  options: { serverVersion?: ServerVersion } = {},
): StreamDifference[] {
  const js = 'config' in actual ? actual.config : actual;
  const out: StreamDifference[] = [];
  const add = (setting: StreamSetting, configured: unknown, has: unknown) =>
    out.push({
      setting,
      configured,
      actual: has,
      inPlace: changesInPlace(setting, has, configured, options.serverVersion),
    });

  if (!sameSet(config.subjects, js.subjects ?? []))
    add('subjects', [...config.subjects], [...(js.subjects ?? [])]);
  if (config.retention !== js.retention) add('retention', config.retention, js.retention);
  if (config.storage !== js.storage) add('storage', config.storage, js.storage);
  const maxAge = millis(js.max_age ?? 0);
  if (config.maxAge !== maxAge) add('maxAge', config.maxAge, maxAge);
  if (config.maxMsgs !== (js.max_msgs ?? -1)) add('maxMsgs', config.maxMsgs, js.max_msgs ?? -1);
  if (config.maxBytes !== (js.max_bytes ?? -1)) add('maxBytes', config.maxBytes, js.max_bytes ?? -1);
  const window = millis(js.duplicate_window ?? 0);
  if (effectiveDuplicateWindow(config) !== window)
    add('duplicateWindow', effectiveDuplicateWindow(config), window);
  if (config.replicas !== (js.num_replicas ?? 1)) add('replicas', config.replicas, js.num_replicas ?? 1);
  if (config.discard !== (js.discard ?? 'old')) add('discard', config.discard, js.discard ?? 'old');
  if (config.compression !== undefined && config.compression !== (js.compression ?? 'none')) {
    add('compression', config.compression, js.compression ?? 'none');
  }
  if (config.metadata !== undefined) {
    const has = js.metadata ?? {};
    if (Object.entries(config.metadata).some(([k, v]) => has[k] !== v))
      add('metadata', { ...config.metadata }, { ...has });
  }
  return out;
}

const DURATIONS: ReadonlySet<StreamSetting> = new Set(['maxAge', 'duplicateWindow']);

function formatValue(setting: StreamSetting, value: unknown): string {
  if (DURATIONS.has(setting) && typeof value === 'number')
    return value === 0 ? '0 (none)' : formatDuration(value);
  if ((setting === 'maxMsgs' || setting === 'maxBytes') && value === -1) return '-1 (no limit)';
  return JSON.stringify(value);
}

/** `maxAge: config 7d, stream 1d` */
export const formatDifference = (d: StreamDifference): string =>
  `${d.setting}: config ${formatValue(d.setting, d.configured)}, stream ${formatValue(d.setting, d.actual)}`;

// ---------------------------------------------------------------------------------------------
// Against a server

type Target = NatsConnection | JetStreamManager;

const isManager = (t: Target): t is JetStreamManager => 'streams' in t && 'consumers' in t;

async function open(target: Target): Promise<{ jsm: JetStreamManager; nc: NatsConnection | undefined }> {
  if (!isManager(target)) return { jsm: await requireJetStream(target), nc: target };
  const getConnection = (target as { getConnection?: () => NatsConnection }).getConnection;
  return { jsm: target, nc: typeof getConnection === 'function' ? getConnection.call(target) : undefined };
}

const apiCode = (e: unknown): number | undefined => (e instanceof JetStreamApiError ? e.code : undefined);

async function infoOrUndefined(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (e) {
    if (apiCode(e) === JS_STREAM_NOT_FOUND) return undefined;
    throw e;
  }
}

function checkNewerSettings(nc: NatsConnection | undefined, name: string, config: StreamSettings): void {
  for (const [setting, min] of Object.entries(NEWER_SETTINGS) as [
    keyof NewerStreamSettings,
    ServerVersion,
  ][]) {
    if (config[setting] === undefined) continue;
    if (!nc) {
      throw new ProsaError(
        'PROSA_SERVER_TOO_OLD',
        `streams.${name}.${setting} needs nats-server ${formatVersion(min)}; pass the connection (not a JetStreamManager) so its version can be checked`,
      );
    }
    requireServerVersion(nc, min, `streams.${name}.${setting}`);
  }
}

function refused(
  name: string,
  differences: readonly StreamDifference[],
  serverSays?: string,
  cause?: unknown,
): ProsaError {
  const what = differences.map(formatDifference).join('; ');
  const settings = differences.map((d) => d.setting).join(' and ');
  return new ProsaError(
    'PROSA_STREAM_CHANGE_REFUSED',
    `stream ${name}: JetStream cannot change ${settings || 'this'} in place (${what})` +
      `${serverSays ? `; the server says: ${serverSays}` : ''}. ` +
      `To apply the config, delete the stream with \`nats stream rm ${name}\` (its messages are lost; prosa creates it again at start), ` +
      `or set streams.${name}.mode: 'external' in runtime.config.ts to leave the stream as it is`,
    { cause },
  );
}

async function createStream(
  jsm: JetStreamManager,
  name: string,
  config: StreamSettings,
): Promise<StreamInfo | 'exists'> {
  try {
    return await jsm.streams.add(toJetStreamConfig(name, config));
  } catch (e) {
    // Another process created it between our look and our create: treat it as present.
    if (apiCode(e) === JS_STREAM_NAME_IN_USE) return 'exists';
    let detail = (e as Error).message;
    let fix = 'check the stream settings in runtime.config.ts';
    if (apiCode(e) === JS_STREAM_SUBJECT_OVERLAP) {
      const owners = new Set<string>();
      for (const subject of config.subjects) {
        for await (const other of jsm.streams.names(subject)) if (other !== name) owners.add(other);
      }
      const list = [...owners].join(', ');
      detail = `its subjects ${config.subjects.join(', ')} overlap with ${owners.size > 0 ? `stream ${list}` : 'another stream'}`;
      fix = `use that stream instead (configure it under its own name: streams.${list || '<name>'}), or change streams.${name}.subjects`;
    }
    throw new ProsaError(
      'PROSA_STREAM_MISSING',
      `stream ${name} does not exist and could not be created: ${detail}; ${fix}`,
      {
        cause: e,
      },
    );
  }
}

/**
 * Creates the configured streams that are absent, updates `managed` ones whose config changed,
 * and leaves present `external` ones alone (warning about their differences). Streams are applied
 * in order; a refused change stops there with `PROSA_STREAM_CHANGE_REFUSED`.
 */
export async function applyStreams(
  target: Target,
  streams: Readonly<Record<string, Readonly<StreamSettings>>>,
  log?: Logger,
): Promise<StreamReport[]> {
  const { jsm, nc } = await open(target);
  const version = nc ? serverVersion(nc) : undefined;
  const reports: StreamReport[] = [];
  for (const [name, config] of Object.entries(streams)) {
    checkNewerSettings(nc, name, config);
    let info = await infoOrUndefined(jsm, name);
    if (!info) {
      const created = await createStream(jsm, name, config);
      if (created !== 'exists') {
        log?.info(
          { stream: name, mode: config.mode, subjects: config.subjects },
          `created stream ${name} (${config.mode})`,
        );
        reports.push({ name, mode: config.mode, action: 'created', differences: [] });
        continue;
      }
      info = await jsm.streams.info(name);
    }
    const differences = diffStream(config, info, version ? { serverVersion: version } : {});
    if (differences.length === 0) {
      log?.debug({ stream: name }, `stream ${name} matches its config`);
      reports.push({ name, mode: config.mode, action: 'unchanged', differences });
      continue;
    }
    if (config.mode === 'external') {
      log?.warn(
        { stream: name, differences },
        `stream ${name} is external and differs from runtime.config.ts; left as it is: ${differences.map(formatDifference).join('; ')}`,
      );
      reports.push({ name, mode: config.mode, action: 'left-as-is', differences });
      continue;
    }
    const blocked = differences.filter((d) => !d.inPlace);
    if (blocked.length > 0) throw refused(name, blocked);
    try {
      // The client merges this over the stream's current config, so settings prosa does not
      // know (description, placement, sources) are kept.
      const { name: _name, ...desired } = toJetStreamConfig(name, config);
      await jsm.streams.update(name, desired);
    } catch (e) {
      if (e instanceof JetStreamApiError) throw refused(name, differences, e.message, e);
      throw e;
    }
    log?.info(
      { stream: name, differences },
      `updated stream ${name} in place: ${differences.map(formatDifference).join('; ')}`,
    );
    reports.push({ name, mode: config.mode, action: 'updated', differences });
  }
  return reports;
}

/**
 * The configured streams (present or not) and every other stream on the server, with their state
 * and whether they match runtime.config.ts. Configured streams come first, in config order.
 */
export async function listStreams(
  target: Target,
  streams: Readonly<Record<string, Readonly<StreamSettings>>> = {},
): Promise<StreamListing[]> {
  const { jsm, nc } = await open(target);
  const version = nc ? serverVersion(nc) : undefined;
  const onServer = new Map<string, StreamInfo>();
  for await (const info of jsm.streams.list()) onServer.set(info.config.name, info);

  const listing = (
    name: string,
    info: StreamInfo | undefined,
    config: StreamSettings | undefined,
  ): StreamListing => {
    const differences =
      config && info ? diffStream(config, info, version ? { serverVersion: version } : {}) : [];
    return {
      name,
      mode: config?.mode ?? 'unconfigured',
      present: info !== undefined,
      subjects: info ? [...(info.config.subjects ?? [])] : [...(config?.subjects ?? [])],
      messages: info?.state.messages ?? 0,
      bytes: info?.state.bytes ?? 0,
      firstSeq: info?.state.first_seq ?? 0,
      lastSeq: info?.state.last_seq ?? 0,
      consumers: info?.state.consumer_count ?? 0,
      matchesConfig: config && info ? differences.length === 0 : undefined,
      differences,
    };
  };
  const out: StreamListing[] = [];
  for (const [name, config] of Object.entries(streams)) out.push(listing(name, onServer.get(name), config));
  const others = [...onServer.keys()].filter((n) => !(n in streams)).sort();
  for (const name of others) out.push(listing(name, onServer.get(name), undefined));
  return out;
}

/** The stream's info, or undefined when it does not exist. */
export async function streamInfo(target: Target, name: string): Promise<StreamInfo | undefined> {
  const { jsm } = await open(target);
  return infoOrUndefined(jsm, name);
}
