/**
 * `prosa doctor`: what stands between this machine and a running prosa, each with the fix.
 *
 *   NATS reachable and authenticated -> JetStream enabled -> server version -> each configured
 *   stream present and matching its config -> the SQLite path writable
 *
 * Checks that need NATS are skipped when it cannot be reached (the first failure says why). Nothing
 * is changed: no stream is created, no directory made, the database is not opened.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ResolvedConfig } from '../config/config.js';
import { isProsaError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  compareVersions,
  connectNats,
  formatVersion,
  MIN_SERVER_VERSION,
  redactUrl,
  requireJetStream,
  serverVersion,
} from '../nats/connection.js';
import { findEmbeddedUrl, readEmbeddedRecord } from '../nats/embeddedServer.js';
import { formatDifference, listStreams, type StreamListing } from '../nats/streams.js';

export interface DoctorCheck {
  /** What was checked, e.g. `stream DLQ`. */
  name: string;
  /** False when this stops prosa from working as configured. */
  ok: boolean;
  /** `warn`: works, but not as the config says (e.g. an external stream that differs). */
  level: 'ok' | 'warn' | 'fail';
  /** What was found. */
  detail: string;
  /** What to do about it (failures and warnings). */
  fix?: string;
}

export interface DoctorOptions {
  log?: Logger;
  /** How long to wait for NATS. @default the config's nats.connectTimeout, at most 5 s */
  connectTimeoutMs?: number;
}

const ok = (name: string, detail: string): DoctorCheck => ({ name, ok: true, level: 'ok', detail });
const warn = (name: string, detail: string, fix: string): DoctorCheck => ({
  name,
  ok: true,
  level: 'warn',
  detail,
  fix,
});
const fail = (name: string, detail: string, fix: string): DoctorCheck => ({
  name,
  ok: false,
  level: 'fail',
  detail,
  fix,
});

const NATS = 'NATS reachable and authenticated';
const JETSTREAM = 'JetStream enabled';
const VERSION = 'server version';
const SQLITE = 'SQLite path writable';

/** Splits a connection error into what happened and what to check (its "Check ..." sentence). */
function splitAdvice(message: string): { detail: string; fix: string | undefined } {
  const m = /^(.*?)\.\s+((?:Check|Set) .*)$/s.exec(message);
  return m ? { detail: m[1] as string, fix: m[2] as string } : { detail: message, fix: undefined };
}

async function checkNats(
  config: ResolvedConfig,
  options: DoctorOptions,
  checks: DoctorCheck[],
): Promise<NatsConnection | undefined> {
  let url = config.nats.url;
  let where = 'NATS_URL';
  if (url === undefined) {
    url = findEmbeddedUrl(config.dataDir);
    const record = readEmbeddedRecord(config.dataDir);
    where = `the embedded server of ${config.dataDir}${record ? `, pid ${record.pid}` : ''}`;
  }
  if (url === undefined) {
    checks.push(
      fail(
        NATS,
        `NATS_URL is not set and no embedded nats-server runs for ${config.dataDir}`,
        'start prosa (`npm start`), which runs the embedded nats-server, and run doctor again; or set NATS_URL to your server',
      ),
    );
    return undefined;
  }
  try {
    const nc = await connectNats(
      {
        ...config.nats,
        url,
        connectTimeout: options.connectTimeoutMs ?? Math.min(config.nats.connectTimeout, 5_000),
      },
      options.log,
    );
    checks.push(ok(NATS, `${redactUrl(url)} (${where})`));
    return nc;
  } catch (e) {
    if (!isProsaError(e)) throw e;
    const { detail, fix } = splitAdvice(e.message);
    const fallback =
      e.code === 'PROSA_NATS_AUTH'
        ? 'check NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS, NATS_NKEY_SEED'
        : 'check that nats-server runs there and that NATS_URL is right';
    checks.push(fail(NATS, detail, fix ?? fallback));
    return undefined;
  }
}

async function checkJetStream(
  nc: NatsConnection,
  checks: DoctorCheck[],
): Promise<JetStreamManager | undefined> {
  try {
    const jsm = await requireJetStream(nc);
    const account = await jsm.getAccountInfo();
    checks.push(ok(JETSTREAM, `${account.streams} streams, ${account.consumers} consumers`));
    return jsm;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    checks.push(
      fail(
        JETSTREAM,
        message.replace(/;.*$/s, ''),
        'start nats-server with -js (or a jetstream {} block in its config), and enable JetStream for the account',
      ),
    );
    return undefined;
  }
}

function checkVersion(nc: NatsConnection, checks: DoctorCheck[]): void {
  const v = serverVersion(nc);
  if (compareVersions(v, MIN_SERVER_VERSION) < 0) {
    checks.push(
      fail(
        VERSION,
        `nats-server ${formatVersion(v)} is older than ${formatVersion(MIN_SERVER_VERSION)}`,
        `upgrade nats-server to ${formatVersion(MIN_SERVER_VERSION)} or newer`,
      ),
    );
    return;
  }
  const note =
    compareVersions(v, [2, 10, 0]) < 0
      ? ' (features of 2.10+, such as stream compression and metadata, are unavailable)'
      : '';
  checks.push(ok(VERSION, `nats-server ${formatVersion(v)}${note}`));
}

function streamCheck(s: StreamListing): DoctorCheck {
  const name = `stream ${s.name}`;
  if (!s.present) {
    return fail(
      name,
      `missing (${s.mode}, subjects ${s.subjects.join(', ')})`,
      'run `prosa streams apply`, or start prosa (`npm start`): it creates the configured streams at start',
    );
  }
  const state = `${s.messages} messages${s.messages > 0 ? ` (seq ${s.firstSeq}..${s.lastSeq})` : ''}, ${s.consumers} consumers`;
  if (s.differences.length === 0) return ok(name, `${s.mode}, ${state}; matches runtime.config.ts`);
  const differs = s.differences.map(formatDifference).join('; ');
  if (s.mode === 'external') {
    return warn(
      name,
      `external, ${state}; differs from runtime.config.ts (left as it is): ${differs}`,
      `prosa never changes an external stream: make streams.${s.name} in runtime.config.ts say what the stream has, or change the stream with \`nats stream edit ${s.name}\``,
    );
  }
  const refused = s.differences.filter((d) => !d.inPlace);
  if (refused.length > 0) {
    return fail(
      name,
      `managed, ${state}; differs in what JetStream cannot change in place: ${differs}`,
      `delete the stream with \`nats stream rm ${s.name}\` (its messages are lost; prosa creates it again at start), or set streams.${s.name}.mode: 'external'`,
    );
  }
  return warn(
    name,
    `managed, ${state}; differs from runtime.config.ts: ${differs}`,
    'run `prosa streams apply` (or start prosa) to update it in place',
  );
}

/** The SQLite file can be created (or written) there, without creating or opening anything. */
export function checkSqlitePath(path: string): DoctorCheck {
  const fix =
    'set PROSA_DB (or sqlite.path in runtime.config.ts) to a file in a directory this user may write, or fix the permissions';
  const stat = (p: string) => {
    try {
      return statSync(p);
    } catch {
      return undefined;
    }
  };
  const writable = (p: string) => {
    try {
      accessSync(p, constants.W_OK | constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const file = stat(path);
  if (file?.isDirectory()) return fail(SQLITE, `${path} is a directory, not a database file`, fix);
  if (file) {
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
    } catch {
      return fail(SQLITE, `${path} exists but this user may not write it`, fix);
    }
    // WAL mode writes -wal and -shm files beside the database.
    if (!writable(dirname(path)))
      return fail(SQLITE, `${path} is writable but its directory is not (SQLite's WAL files go there)`, fix);
    return ok(SQLITE, `${path} (exists, writable)`);
  }
  let dir = dirname(path);
  const missing: string[] = [];
  for (let s = stat(dir); !s; s = stat(dir)) {
    missing.push(dir);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const parent = stat(dir);
  if (!parent?.isDirectory())
    return fail(SQLITE, `${path} cannot be created: ${dir} is not a directory`, fix);
  if (!writable(dir))
    return fail(SQLITE, `${path} cannot be created: ${dir} is not writable by this user`, fix);
  return ok(SQLITE, `${path} (will be created${missing.length > 0 ? `, with ${missing.at(-1)}` : ''})`);
}

/** Runs every check against the resolved config; never throws for what it checks. */
export async function runDoctor(config: ResolvedConfig, options: DoctorOptions = {}): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const nc = await checkNats(config, options, checks);
  if (nc) {
    try {
      const jsm = await checkJetStream(nc, checks);
      checkVersion(nc, checks);
      if (jsm) {
        const listing = await listStreams(jsm, config.streams);
        for (const s of listing) if (s.mode !== 'unconfigured') checks.push(streamCheck(s));
      }
    } finally {
      await nc.close().catch(() => {});
    }
  }
  checks.push(checkSqlitePath(config.sqlitePath));
  return checks;
}

const LABEL = { ok: 'ok', warn: 'warn', fail: 'FAIL' } as const;

/**
 * The text `prosa doctor` prints: one line per check (ok / warn / FAIL, the name, what was found),
 * the fix on the line below a warning or failure, then a summary line.
 */
export function formatDoctor(checks: readonly DoctorCheck[]): string {
  const width = Math.max(0, ...checks.map((c) => c.name.length));
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${LABEL[c.level].padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`);
    if (c.fix && c.level !== 'ok') lines.push(`${' '.repeat(6 + width + 2)}fix: ${c.fix}`);
  }
  const failed = checks.filter((c) => c.level === 'fail').length;
  const warned = checks.filter((c) => c.level === 'warn').length;
  const problems = [failed > 0 ? `${failed} failed` : '', warned > 0 ? `${warned} with warnings` : ''].filter(
    Boolean,
  );
  const summary =
    problems.length === 0
      ? `all ${checks.length} checks passed`
      : `${problems.join(', ')} of ${checks.length} checks`;
  lines.push('', summary);
  return `${lines.join('\n')}\n`;
}
