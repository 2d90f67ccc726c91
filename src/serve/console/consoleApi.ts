/**
 * The console's JSON API. Every action calls what the CLI's command ends in (src/ops/admin.ts:
 * pauseWorker, resumeWorker, retryDeadLetters, skipDeadLetter, cancelTimeout), with an admin
 * context whose control calls reach this process's workers directly; a rebuild is the runtime's.
 *
 *   GET  /api/session                          whether the page needs a token (no data)
 *   GET  /api/status                           status and rebuilds, as `prosa status --json` plus rebuilds
 *   GET  /api/events                           the same, live (server-sent events, with the lag history)
 *   GET  /api/dead-letters                     every dead letter, its body and the events waiting behind it
 *   GET  /api/sagas/<saga>                     instances by state, pending timers, the outbox
 *   GET  /api/rebuilds                         rebuilds started here
 *   GET  /api/topology                         the topology read model (active and removed)
 *   POST /api/workers/<name>/pause|resume
 *   POST /api/dead-letters/<worker>/<seq>/retry|skip
 *   POST /api/sagas/<saga>/cancel-timeout      {"instance", "timeout"}
 *   POST /api/rebuilds/<projection>
 */
import type { AdminContext } from '../../ops/admin.js';
import {
  cancelTimeout,
  deadLetters,
  findWorker,
  pauseWorker,
  resumeWorker,
  retryDeadLetters,
  sagaInstances,
  sagaOutbox,
  skipDeadLetter,
} from '../../ops/admin.js';
import type { RuntimeStatus } from '../../ops/status.js';
import { readRemovedTopology, readTopologyView } from '../../ops/topologyView.js';
import { deadLetterViews } from './deadLetterView.js';
import type { RebuildTracker } from './rebuildTracker.js';

/** What the running process lends the console. */
export interface ConsoleBackend {
  status(): Promise<RuntimeStatus>;
  /** The process's admin context; throws a typed error until the runtime has started. */
  admin(): AdminContext;
}

/** An API answer: a status and a JSON body. */
export interface ApiAnswer {
  status: number;
  body: unknown;
}

const ok = (body: unknown): ApiAnswer => ({ status: 200, body });

/** Instances and timers listed on the page (the counts by state cover them all). */
const MAX_INSTANCES_LISTED = 500;

/** A seq from a path segment, or a 400. */
function seqOf(text: string): number | ApiAnswer {
  const n = Number(text);
  return Number.isInteger(n) && n > 0
    ? n
    : { status: 400, body: { error: `not a stream sequence: ${text}` } };
}

function workerOfConsumer(c: AdminContext): (consumer: string) => string {
  return (consumer) => {
    try {
      return findWorker(c.config, consumer).definition.name;
    } catch {
      return consumer;
    }
  };
}

function sagaView(c: AdminContext, saga: string) {
  const instances = sagaInstances(c, saga);
  const byState: Record<string, number> = {};
  for (const i of instances) {
    const key = typeof i.state === 'string' ? i.state : JSON.stringify(i.state);
    byState[key] = (byState[key] ?? 0) + 1;
  }
  const timers = instances
    .flatMap((i) => i.timeouts.map((t) => ({ instance: i.instance, ...t })))
    .sort((a, b) => a.dueAt.localeCompare(b.dueAt));
  const outbox = sagaOutbox(c, saga).map((o) => ({
    ...o,
    createdAt: new Date(o.createdAt).toISOString(),
    publishedAt: o.publishedAt === null ? null : new Date(o.publishedAt).toISOString(),
  }));
  return {
    saga: findWorker(c.config, saga).definition.name,
    instanceCount: instances.length,
    instances: instances.slice(0, MAX_INSTANCES_LISTED),
    byState,
    timers: timers.slice(0, MAX_INSTANCES_LISTED),
    timerCount: timers.length,
    outbox,
  };
}

function topology(c: AdminContext) {
  return { view: readTopologyView(c.db), removed: readRemovedTopology(c.db) };
}

export function createConsoleApi(backend: ConsoleBackend, rebuilds: RebuildTracker) {
  /** Answers a GET of /api/<parts>, or undefined when there is no such read. */
  async function read(parts: string[]): Promise<ApiAnswer | undefined> {
    const [what, name] = parts;
    if (parts.length === 1 && what === 'status')
      return ok({ ...(await backend.status()), rebuilds: rebuilds.list() });
    if (parts.length === 1 && what === 'rebuilds') return ok(rebuilds.list());
    if (parts.length === 1 && what === 'dead-letters') {
      const c = backend.admin();
      return ok(deadLetterViews(await deadLetters(c), workerOfConsumer(c), c.db));
    }
    if (parts.length === 2 && what === 'sagas' && name) return ok(sagaView(backend.admin(), name));
    if (parts.length === 1 && what === 'topology') return ok(topology(backend.admin()));
    return undefined;
  }

  /** Answers a POST to /api/<parts>, or undefined when there is no such action. */
  async function act(parts: string[], body: Record<string, unknown>): Promise<ApiAnswer | undefined> {
    const [what, name, third, fourth] = parts;
    if (!name) return undefined;
    if (what === 'workers' && parts.length === 3 && (third === 'pause' || third === 'resume')) {
      const c = backend.admin();
      return ok(
        third === 'pause'
          ? await pauseWorker(c, name, 'paused from the console')
          : await resumeWorker(c, name),
      );
    }
    if (what === 'dead-letters' && parts.length === 4 && third && (fourth === 'retry' || fourth === 'skip')) {
      const seq = seqOf(third);
      if (typeof seq !== 'number') return seq;
      const c = backend.admin();
      return ok(
        fourth === 'retry' ? await retryDeadLetters(c, name, seq) : await skipDeadLetter(c, name, seq),
      );
    }
    if (what === 'sagas' && parts.length === 3 && third === 'cancel-timeout') {
      const { instance, timeout } = body;
      if (typeof instance !== 'string' || typeof timeout !== 'string')
        return { status: 400, body: { error: 'cancel-timeout needs {"instance": "...", "timeout": "..."}' } };
      return ok(cancelTimeout(backend.admin(), name, instance, timeout));
    }
    if (what === 'rebuilds' && parts.length === 2) {
      const c = backend.admin();
      const found = findWorker(c.config, name);
      if (found.kind !== 'projection')
        return {
          status: 400,
          body: { error: `${name} is a saga: sagas are reset, not rebuilt (prosa reset)` },
        };
      return { status: 202, body: rebuilds.start(found.definition.name) };
    }
    return undefined;
  }

  return { read, act };
}

export type ConsoleApi = ReturnType<typeof createConsoleApi>;
