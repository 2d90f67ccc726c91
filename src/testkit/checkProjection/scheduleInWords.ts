/** A failed run's schedule in words, step by step. */
import type { ProjectionDefinition, ProsaEvent, RawEvent } from '../../internal.js';
import type { ReplayTraceEntry } from '../replay.js';
import type { Failure } from './failures.js';

export function scheduleSection(definition: ProjectionDefinition<ProsaEvent, string>, f: Failure): string[] {
  const { run } = f;
  if (f.kind === 'nondeterministic')
    return ['Schedule: none needed; each clean pass delivered every event in one batch.'];
  if (f.kind === 'reference' || f.kind === 'dead-lettered')
    return ['Schedule: none needed; the clean pass delivered every event in one batch.'];
  if (run.trace.length > 0 && typeof run.trace[0] === 'string') {
    return [
      'Schedule (real nats-server and runtime):',
      ...(run.trace as string[]).map((s, i) => `  ${i + 1}. ${s}`),
    ];
  }
  const trace = run.trace as ReplayTraceEntry[];
  if (f.kind === 'threw' && trace.length === 0)
    return [`Schedule: live actors capped at ${run.maxActors}; it threw in the first step.`];
  const entities = entityCount(definition, run.messages);
  const pressure =
    entities > run.maxActors ? ` for ${entities} entities, so actors are passivated and restored` : '';
  const lines = [`Schedule (live actors capped at ${run.maxActors}${pressure}):`];
  let n = 0;
  for (let i = 0; i < trace.length; i++) {
    const t = trace[i] as ReplayTraceEntry;
    n++;
    if (f.kind === 'threw' && i === trace.length - 1) {
      const what = t.step.kind === 'rest' || t.step.kind === 'batch' ? 'as one batch' : `(${t.step.kind})`;
      lines.push(`  ${n}. deliver ${seqList(t.delivered)} ${what}: this is where it threw`);
      break;
    }
    if (t.step.kind === 'rest' && f.kind === 'threw') {
      lines.push(`  ${n}. ${describeStep(t)}`);
      continue;
    }
    if (t.step.kind === 'rest') {
      // The batches after the plan's steps, as one line.
      const rest = trace.slice(i).filter((x) => x.step.kind === 'rest');
      const seqs = rest.flatMap((x) => x.delivered);
      const last = rest[rest.length - 1] as ReplayTraceEntry;
      const redelivered = rest.reduce((s, x) => s + x.redelivered, 0);
      lines.push(
        `  ${n}. ${n === 1 ? 'deliver' : 'then'} ${seqList(seqs)}${redelivered > 0 ? ` (${redelivered} redelivered)` : ''} in batches of ${t.step.size}, each committed and acked: checkpoint ${last.checkpoint}`,
      );
      break;
    }
    lines.push(`  ${n}. ${describeStep(t)}`);
  }
  return lines;
}

function describeStep(t: ReplayTraceEntry): string {
  const delivered = `${seqList(t.delivered)}${t.redelivered > 0 ? ` (${seqList(t.delivered.slice(0, t.redelivered))} redelivered)` : ''}`;
  switch (t.step.kind) {
    case 'batch':
      return `deliver ${delivered} as one batch, commit and ack: checkpoint ${t.checkpoint}`;
    case 'crash-before-commit':
      return `deliver ${delivered}, then the worker crashes before the commit and restarts from checkpoint ${t.checkpoint}`;
    case 'crash-after-commit':
      return `deliver ${delivered} and commit, then the worker crashes before the ack and restarts from checkpoint ${t.checkpoint}; the unacked messages come again`;
    case 'passivate':
      return 'passivate every live actor (they come back from their snapshots)';
    case 'rest':
      return `deliver ${delivered} as one batch, commit and ack: checkpoint ${t.checkpoint}`;
  }
}

/** `#1-#3, #5`: ascending runs of sequences written as ranges. */
export function seqList(seqs: readonly number[]): string {
  if (seqs.length === 0) return 'nothing';
  const parts: string[] = [];
  let start = seqs[0] as number;
  let prev = start;
  for (const s of [...seqs.slice(1), Number.NaN]) {
    if (s === prev + 1) {
      prev = s;
      continue;
    }
    parts.push(start === prev ? `#${start}` : `#${start}-#${prev}`);
    start = s;
    prev = s;
  }
  return parts.join(', ');
}

/** How many distinct entities the messages touch (0 for those that do not decode). */
export function entityCount(
  definition: ProjectionDefinition<ProsaEvent, string>,
  messages: readonly RawEvent[],
): number {
  const slots = new Set<string>();
  for (const m of messages) {
    try {
      for (const [kind, id] of definition.keys(definition.decode(m))) slots.add(`${kind}\u0000${id}`);
    } catch {
      // a dead letter touches no entity
    }
  }
  return slots.size;
}
