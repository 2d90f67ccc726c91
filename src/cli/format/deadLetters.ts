/** `prosa dlq ls`, `prosa dlq retry` and `prosa dlq skip` as text. */
import type { DeadLetterEntry, retryDeadLetters, skipDeadLetter } from '../../internal.js';

type RetryResult = Awaited<ReturnType<typeof retryDeadLetters>>;
type SkipResult = Awaited<ReturnType<typeof skipDeadLetter>>;

const waitingBehind = (e: DeadLetterEntry) =>
  e.waiting ? `  (${e.waiting} event${e.waiting === 1 ? '' : 's'} waiting behind it)` : '';

/** Two lines a dead letter: where it came from and when, then why. */
export function formatDeadLetters(entries: readonly DeadLetterEntry[]): string {
  if (entries.length === 0) return 'no dead letters\n';
  return entries
    .map(
      (e) =>
        `${e.consumer}  ${e.stream}#${e.seq}  ${e.subject}  ${e.time}${waitingBehind(e)}\n    ${e.reason}\n`,
    )
    .join('');
}

/** The entries for `--json`: the event body as text instead of a byte array. */
export const deadLettersAsJson = (entries: readonly DeadLetterEntry[]) =>
  entries.map(({ data, ...e }) => ({ ...e, body: Buffer.from(data).toString('utf8') }));

/** A summary line, then the new reason of each letter dead-lettered again, and what each applied one released. */
export function formatRetry({ via, outcomes }: RetryResult): string {
  const applied = outcomes.filter((o) => o.applied).length;
  const held = outcomes.filter((o) => !o.applied && o.waitsBehind).length;
  const summary = `retried ${outcomes.length} via ${via}: ${applied} applied, ${outcomes.length - applied - held} dead-lettered again${held > 0 ? `, ${held} not tried (waiting behind an earlier dead letter)` : ''}\n`;
  return (
    summary +
    outcomes
      .map((o) => {
        if (!o.applied) return `  #${o.seq}: ${o.reason}\n`;
        const r = o.released;
        return r && r.applied + r.deadLettered > 0 ? `  #${o.seq}: ${released(r)}\n` : '';
      })
      .join('')
  );
}

const released = (r: { applied: number; deadLettered: number }) =>
  `released ${r.applied + r.deadLettered} waiting event${r.applied + r.deadLettered === 1 ? '' : 's'}: ${r.applied} applied, ${r.deadLettered} dead-lettered`;

/** What a skip did. */
export const formatSkip = ({ worker, via, seq, released: r }: SkipResult): string =>
  `skipped dead letter ${seq} of ${worker} via ${via}; ${released(r)}\n`;
