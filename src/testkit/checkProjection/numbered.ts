import type { RawEvent } from '../../internal.js';
import { UsageError } from './failures.js';
import type { StreamMessage } from './options.js';

/** The messages with their stream sequences: given ones kept, missing ones counted on. */
export function numbered(messages: readonly StreamMessage[]): RawEvent[] {
  let previous = 0;
  return messages.map((m, i) => {
    const seq = m.seq ?? previous + 1;
    if (!Number.isInteger(seq) || seq <= previous) {
      throw new UsageError(
        `checkProjection: events[${i}] has stream sequence ${seq} after ${previous}; sequences must be positive integers and ascending (leave seq out to number them 1, 2, ...)`,
      );
    }
    previous = seq;
    return { subject: m.subject, seq, data: m.data };
  });
}
