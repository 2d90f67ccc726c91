/** The likely cause of a failure, from its kind and the faults its schedule exercised. */
import type { ProjectionDefinition, ProsaEvent } from '../../internal.js';
import type { ReplayTraceEntry } from '../replay.js';
import type { Failure, RunFacts } from './failures.js';
import { entityCount } from './scheduleInWords.js';

export function causeSection(definition: ProjectionDefinition<ProsaEvent, string>, f: Failure): string[] {
  switch (f.kind) {
    case 'nondeterministic':
      return [
        'Likely cause: the fold reads the wall clock (Date.now(), new Date()), randomness (Math.random(), random ids)',
        'or state kept outside the actor (module-level variables, caches), so a replay or rebuild gives other rows.',
        '(The second pass ran with the clock a day ahead.) Take times and ids from the event instead.',
      ];
    case 'reference':
      return [
        'Likely cause: the projection and your reference fold these events differently; one of them has the bug.',
      ];
    case 'dead-lettered':
      return [
        'Likely cause: decode rejects an event the arbitrary meant to be valid, or a machine action throws on it.',
      ];
    case 'threw': {
      const lines = [
        'Likely cause: see the error. A machine action that throws dead-letters its event; an error here came',
        'from outside the machines (decode, keys, row, the schema or the engine).',
      ];
      const trace = f.run.trace;
      const restored =
        trace.length > 1 &&
        typeof trace[0] !== 'string' &&
        ((trace as ReplayTraceEntry[]).some((t) => t.step.kind !== 'batch' && t.step.kind !== 'rest') ||
          entityCount(definition, f.run.messages) > f.run.maxActors);
      if (restored)
        lines.push(
          'It threw after an actor came back from its snapshot (JSON): a Map, Set, class instance or closure in',
          'the context does not survive that. Keep the state in the context as plain JSON.',
        );
      return lines;
    }
    case 'schedule':
      return scheduleCauses(definition, f.run);
  }
}

function scheduleCauses(definition: ProjectionDefinition<ProsaEvent, string>, run: RunFacts): string[] {
  if (typeof run.trace[0] === 'string') {
    return [
      'Likely cause: the runtime on a real nats-server gives other rows than the in-memory clean pass: restarts,',
      'real batch boundaries and passivation change the result (see the in-memory check for a smaller case).',
    ];
  }
  const trace = run.trace as ReplayTraceEntry[];
  const has = (kind: string) => trace.some((t) => t.step.kind === kind);
  const restored =
    has('passivate') ||
    has('crash-before-commit') ||
    has('crash-after-commit') ||
    entityCount(definition, run.messages) > run.maxActors;
  const lines: string[] = ['Likely cause:'];
  if (has('crash-before-commit'))
    lines.push(
      '  - state kept outside the actor (a module-level variable or cache): the events of a batch that crashed',
      '    before its commit reached it, and reach it again after the restart; only the actor is rolled back.',
    );
  if (restored)
    lines.push(
      '  - state the snapshot does not capture: a passivated or restarted actor comes back from its persisted',
      '    snapshot only (JSON), so a Map, Set, class instance or closure in the context is lost. Keep the',
      '    state in the context as plain JSON.',
    );
  // Rows are also written when an actor is passivated, so passivation exposes this one too.
  const passivated = has('passivate') || entityCount(definition, run.messages) > run.maxActors;
  if (lines.length === 1 || !restored || passivated)
    lines.push(
      "  - a row that reads more than its own actor's snapshot (another entity's state, a shared variable):",
      '    rows are written when a batch commits or an actor is passivated, so it depends on how events of',
      '    different keys fall into batches.',
    );
  return lines;
}
