/** `prosa dlq ls` and `prosa dlq retry` as text. */
import type { DeadLetterEntry, retryDeadLetters } from '../../internal.js';

type RetryResult = Awaited<ReturnType<typeof retryDeadLetters>>;

/** Two lines a dead letter: where it came from and when, then why. */
export function formatDeadLetters(entries: readonly DeadLetterEntry[]): string {
  if (entries.length === 0) return 'no dead letters\n';
  return entries
    .map((e) => `${e.consumer}  ${e.stream}#${e.seq}  ${e.subject}  ${e.time}\n    ${e.reason}\n`)
    .join('');
}

/** The entries for `--json`: the event body as text instead of a byte array. */
export const deadLettersAsJson = (entries: readonly DeadLetterEntry[]) =>
  entries.map(({ data, ...e }) => ({ ...e, body: Buffer.from(data).toString('utf8') }));

/** A summary line, then the new reason of each letter dead-lettered again. */
export function formatRetry({ via, outcomes }: RetryResult): string {
  const applied = outcomes.filter((o) => o.applied).length;
  const summary = `retried ${outcomes.length} via ${via}: ${applied} applied, ${outcomes.length - applied} dead-lettered again\n`;
  return summary + outcomes.map((o) => (o.applied ? '' : `  #${o.seq}: ${o.reason}\n`)).join('');
}
