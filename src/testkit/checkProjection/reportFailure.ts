/** The report a person reads: the shrunk counterexample in words, what differs, and the likely cause. */
import fc from 'fast-check';
import { isUuid, type ProjectionDefinition, type ProsaEvent, type RawEvent } from '../../internal.js';
import type { Difference } from './compareModels.js';
import { type Failure, ProjectionCheckError, type RunFacts, RunFailure, UsageError } from './failures.js';
import { causeSection } from './likelyCause.js';
import type { CheckProjectionOptions } from './options.js';
import { scheduleSection } from './scheduleInWords.js';
import { errorMessage, preview, safeJson, truncate, value } from './text.js';

const MAX_DIFFERENCES = 20;

export function reportFailure(
  definition: ProjectionDefinition<ProsaEvent, string>,
  o: CheckProjectionOptions<ProsaEvent>,
  details: fc.RunDetails<unknown>,
  reduced?: RunFailure,
): Error {
  const error = reduced ?? details.errorInstance;
  if (error instanceof UsageError) return error;
  if (!(error instanceof RunFailure)) {
    // Interrupted, too many skips, or an error thrown by the user's arbitrary itself.
    return new Error(fc.defaultReportMessage(details as fc.RunDetails<unknown>) ?? 'checkProjection failed', {
      cause: error,
    });
  }
  const { failure } = error;
  const text = [
    headline(definition, failure),
    '',
    ...eventsSection(definition, o, failure.run),
    '',
    ...scheduleSection(definition, failure),
    '',
    ...differencesSection(failure),
    '',
    ...causeSection(definition, failure),
    '',
    `Found on run ${details.numRuns} (seed ${details.seed}); shrunk ${details.numShrinks} times${reduced ? ', then reduced' : ''}. Replay it with { seed: ${details.seed}, path: ${JSON.stringify(details.counterexamplePath)} } in the options.`,
  ].join('\n');
  return new ProjectionCheckError(
    text,
    { seed: details.seed, path: details.counterexamplePath },
    failure.run.messages,
    failure.kind === 'threw' ? { cause: failure.error } : undefined,
  );
}

function headline(definition: ProjectionDefinition<ProsaEvent, string>, f: Failure): string {
  const name = `checkProjection(${definition.name})`;
  switch (f.kind) {
    case 'nondeterministic':
      return `${name}: two clean passes over the same events give different read models; the fold is not a function of its events.`;
    case 'schedule':
      return `${name}: replaying under the schedule below (batches, redeliveries, crashes, passivation) gives another read model than one clean pass.`;
    case 'reference':
      return `${name}: a clean pass gives another read model than your reference fold.`;
    case 'dead-lettered':
      return `${name}: a clean pass dead-lettered events, and allowDeadLetters is false.`;
    case 'threw':
      return `${name}: ${f.during} threw: ${errorMessage(f.error)}`;
  }
}

function eventsSection(
  definition: ProjectionDefinition<ProsaEvent, string>,
  o: CheckProjectionOptions<ProsaEvent>,
  run: RunFacts,
): string[] {
  const lines = [`Events (${run.messages.length}; stream sequence, type, entities, payload):`];
  if (run.messages.length === 0) lines.push('  (none)');
  const described = run.messages.map((m) => describeMessage(definition, o, m));
  const seqWidth = Math.max(0, ...run.messages.map((m) => String(m.seq).length)) + 1;
  const typeWidth = Math.max(0, ...described.map((d) => (d.length > 1 ? (d[0] as string).length : 0)));
  run.messages.forEach((m, i) => {
    const [first, ...rest] = described[i] as string[];
    const text = rest.length === 0 ? first : [(first as string).padEnd(typeWidth), ...rest].join('  ');
    lines.push(`  ${`#${m.seq}`.padEnd(seqWidth)}  ${text}`);
  });
  return lines;
}

/** An event in words: `[type, entities, payload]`, or one string when it is described otherwise. */
function describeMessage(
  definition: ProjectionDefinition<ProsaEvent, string>,
  o: CheckProjectionOptions<ProsaEvent>,
  m: RawEvent,
): string[] {
  let event: ProsaEvent;
  try {
    event = definition.decode(m);
  } catch (e) {
    return [`(does not decode: ${errorMessage(e)}) on ${m.subject}`];
  }
  if (o.describeEvent) return [o.describeEvent(event)];
  let keys: readonly (readonly [string, string])[] = [];
  try {
    keys = definition.keys(event);
  } catch (e) {
    return [event.type, `(keys() threw: ${errorMessage(e)})`];
  }
  const ids = new Set(keys.map(([, id]) => id));
  const entities = keys.length === 0 ? '(no entity)' : keys.map(([k, id]) => `${k} ${id}`).join(', ');
  const payload = payloadPreview(event, ids);
  return payload ? [event.type, entities, payload] : [event.type, entities];
}

/**
 * The event's payload in short: `data` if it is an object (the CIM envelope's variant), else the
 * event without `type`; uuids and the entity ids already shown are left out.
 */
function payloadPreview(event: ProsaEvent, ids: ReadonlySet<string>): string {
  const e = event as unknown as Record<string, unknown>;
  const source =
    typeof e.data === 'object' && e.data !== null && !Array.isArray(e.data)
      ? (e.data as Record<string, unknown>)
      : e;
  const kept: string[] = [];
  for (const [k, v] of Object.entries(source)) {
    if (source === e && k === 'type') continue;
    if (isUuid(v) || (typeof v === 'string' && ids.has(v))) continue;
    kept.push(`${JSON.stringify(k)}:${safeJson(v)}`);
  }
  return kept.length === 0 ? '' : truncate(`{${kept.join(',')}}`, 140);
}

function differencesSection(f: Failure): string[] {
  if (f.kind === 'threw') {
    const stack = f.error instanceof Error && f.error.stack ? f.error.stack.split('\n').slice(1, 6) : [];
    return ['Error:', `  ${errorMessage(f.error)}`, ...stack.map((l) => `  ${l.trim()}`)];
  }
  const title = {
    reference: 'What differs (expected: your reference; got: the clean pass):',
    nondeterministic: 'What differs (expected: the first clean pass; got: the second):',
    schedule: 'What differs (expected: one clean pass; got: under this schedule):',
    'dead-lettered': 'Dead letters:',
  }[f.kind];
  const lines = [title];
  for (const d of f.differences.slice(0, MAX_DIFFERENCES)) lines.push(`  ${describeDifference(d)}`);
  if (f.differences.length > MAX_DIFFERENCES)
    lines.push(`  ... and ${f.differences.length - MAX_DIFFERENCES} more`);
  return lines;
}

function describeDifference(d: Difference): string {
  switch (d.kind) {
    case 'column':
      return `${d.table} ${JSON.stringify(d.key)}: ${d.column}: expected ${value(d.expected)}, got ${value(d.got)}`;
    case 'missing-row':
      return `${d.table} ${JSON.stringify(d.key)}: expected a row ${preview(d.expected)}, got none`;
    case 'extra-row':
      return `${d.table} ${JSON.stringify(d.key)}: expected no row, got ${preview(d.got)}`;
    case 'dead-letter':
      return `#${d.seq}: ${d.expected === undefined ? 'applied' : `dead-lettered (${d.expected})`} expected, got ${d.got === undefined ? 'applied' : `dead-lettered (${d.got})`}`;
    case 'waiting':
      return `#${d.seq}: ${d.expected ? 'waiting behind a dead letter' : 'not waiting'} expected, got ${d.got ? 'waiting' : 'not waiting'}`;
    case 'checkpoint':
      return `checkpoint: expected ${d.expected}, got ${d.got}`;
  }
}
