/**
 * Saga leases in a NATS key-value bucket: one key per saga, whose value says which process holds
 * it, until when, and through which outbox position that process has published. Every write is
 * revision-checked (create: no live key; update: the revision last seen), so of two processes that
 * saw the same revision only one write lands. The bucket keeps one value per key; expiry is the
 * value's `expiresAt` (servers before 2.11 have no per-key time to live), read against each
 * reader's own clock with a margin.
 */
import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';

/** Who holds a lease: a process, named so an operator can find it. */
export interface LeaseHolder {
  host: string;
  pid: number;
  /** Unique per process start (a pid can be reused). */
  id: string;
}

export interface LeaseValue {
  holder: LeaseHolder;
  /** Epoch ms by the holder's clock after which the lease has lapsed unless renewed. */
  expiresAt: number;
  /** Every command of the saga at or below this outbox position is in COMMANDS. */
  through: number;
  /**
   * Which incarnation of the saga's source stream `through` counts in (its creation time): a stream
   * deleted and made again starts its sequences over, and an old position means nothing there.
   */
  epoch?: string;
  /** The holder gave the lease up (handover, drain): anyone may take it at once. */
  released?: boolean;
}

export interface LeaseEntry {
  value: LeaseValue;
  revision: number;
}

export interface LeaseStore {
  /** The key's current value, or undefined when there is none (never taken, or deleted). */
  read(saga: string): Promise<LeaseEntry | undefined>;
  /** Writes a value where there is none; undefined when another process wrote first. */
  create(saga: string, value: LeaseValue): Promise<number | undefined>;
  /** Writes over `revision`; undefined when the key has moved past it (another process wrote). */
  update(saga: string, value: LeaseValue, revision: number): Promise<number | undefined>;
}

/** Whether a write failed because another writer got there first (rather than NATS being away). */
function lostRace(e: unknown): boolean {
  if (e instanceof JetStreamApiError)
    return (
      e.code === JetStreamApiCodes.StreamWrongLastSequence ||
      e.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown
    );
  return /wrong last sequence/i.test(String((e as Error)?.message));
}

const encode = (v: LeaseValue) => JSON.stringify(v);

/**
 * Opens the lease bucket, creating it when absent unless `bindOnly` (a command that only reads must
 * not create it; reading a bucket that does not exist then fails at each read).
 */
export async function openLeaseStore(
  js: JetStreamClient,
  bucket: string,
  bindOnly = false,
  replicas = 1,
): Promise<LeaseStore> {
  const kvm = new Kvm(js);
  const kv: KV = bindOnly ? await kvm.open(bucket) : await kvm.create(bucket, { history: 1, replicas });
  const guard = async (write: () => Promise<number>): Promise<number | undefined> => {
    try {
      return await write();
    } catch (e) {
      if (lostRace(e)) return undefined;
      throw e;
    }
  };
  return {
    async read(saga) {
      const e = await kv.get(saga);
      if (e?.operation !== 'PUT' || e.length === 0) return undefined;
      return { value: e.json<LeaseValue>(), revision: e.revision };
    },
    create: (saga, value) => guard(() => kv.create(saga, encode(value))),
    update: (saga, value, revision) => guard(() => kv.update(saga, encode(value), revision)),
  };
}
