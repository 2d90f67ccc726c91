/**
 * Which saga timers have fired, and at which outbox position, in a NATS key-value bucket (one key
 * per timer). The active process records a timer before it fires it, with a revision-checked
 * create, so a timer fires once however many processes find it due; the standbys fire a timer
 * only once it is on record, at the position recorded, which keeps their instances and outbox
 * rows the same as the active's. Entries expire with the bucket's age limit.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';

export interface TimerJournal {
  /**
   * Puts `timerId` on record as fired at `position`, unless it is already: returns the position on
   * record (another process's, when it fired the timer first).
   */
  record(saga: string, timerId: string, position: number): Promise<number>;
  /** The position a timer fired at, or undefined while no process has fired it. */
  lookup(saga: string, timerId: string): Promise<number | undefined>;
}

const key = (saga: string, timerId: string) => `${saga}.${timerId}`;

/** Opens (creating if absent) the journal bucket; entries older than `maxAgeMs` are dropped by the server. */
export async function openTimerJournal(
  js: JetStreamClient,
  bucket: string,
  maxAgeMs: number,
  replicas = 1,
): Promise<TimerJournal> {
  const kv: KV = await new Kvm(js).create(bucket, { history: 1, ttl: maxAgeMs, replicas });
  const lookup = async (saga: string, timerId: string) => {
    const e = await kv.get(key(saga, timerId));
    if (e?.operation !== 'PUT' || e.length === 0) return undefined;
    return e.json<{ position: number }>().position;
  };
  return {
    lookup,
    async record(saga, timerId, position) {
      try {
        await kv.create(key(saga, timerId), JSON.stringify({ position }));
        return position;
      } catch (e) {
        const on = await lookup(saga, timerId);
        if (on === undefined) throw e;
        return on;
      }
    },
  };
}
