/**
 * A saga's timers when several processes run it. The active process puts each due timer on record
 * (src/nats/timerJournal.ts) before it fires it, with the outbox position its commands get; a
 * standby (or an active one still catching up) fires a due timer only once it is on record, at the
 * recorded position. So a timer fires once across processes, every process's instance goes through
 * the same firing, and the outbox rows it writes sit at the same position everywhere (a standby's
 * are marked published as the active reports them published; a new active dispatches those it did
 * not). A standby fires its copy when its own clock says due, which is about when the active did.
 */
import type { SagaEngine } from '../engine/sagaEngine.js';
import type { Logger } from '../logger.js';
import type { TimerJournal } from '../nats/timerJournal.js';
import type { Clock } from '../time/clock.js';

export interface JournaledTimers {
  /** For the timer scheduler: starts a look (it runs asynchronously) and returns 0. */
  fire(): number;
  /** For the timer scheduler: the next due time worth a look (none while a look runs). */
  nextDue(): number | undefined;
  /** The lowest outbox position a firing under way writes at: on record, not committed yet. */
  readonly inFlight: number | undefined;
}

export interface JournaledTimersOptions {
  saga: string;
  engine: Pick<SagaEngine, 'dueTimers' | 'fireDueTimers' | 'nextTimeoutAt' | 'nextLocalPosition'>;
  journal: TimerJournal;
  /** Whether this process fires timers of its own (it holds the lease and has caught up). */
  acting: () => boolean;
  clock: Clock;
  log: Logger;
  /** Some fired (their commands are in the outbox). */
  fired: (count: number) => void;
  /** A look ended: the scheduler should look again. */
  lookAgain: () => void;
  /** How long a standby waits before it asks again for due timers not on record. @default 1_000 */
  waitMs?: number;
}

export function createJournaledTimers(o: JournaledTimersOptions): JournaledTimers {
  const { saga, engine, journal, clock, log } = o;
  const waitMs = o.waitMs ?? 1_000;
  let running: Promise<void> | undefined;
  let notBefore = 0;
  let inFlight: number | undefined;

  async function look(): Promise<void> {
    const due = engine.dueTimers();
    if (due.length === 0) return;
    const acting = o.acting();
    // Held until the firing commits, so the lease never reports these commands published.
    if (acting) inFlight = engine.nextLocalPosition();
    try {
      const at = inFlight ?? 0;
      const found = await Promise.all(
        due.map(
          async (id) =>
            [id, acting ? await journal.record(saga, id, at) : await journal.lookup(saga, id)] as const,
        ),
      );
      const positions = new Map<string, number>();
      for (const [id, position] of found) if (position !== undefined) positions.set(id, position);
      const fired = positions.size > 0 ? engine.fireDueTimers(positions) : 0;
      if (fired > 0) o.fired(fired);
      // Due here but not fired by the active process yet (its clock, or its lag): ask again later.
      if (positions.size < due.length) notBefore = clock.now() + waitMs;
    } finally {
      inFlight = undefined;
    }
  }

  return {
    fire() {
      running ??= look()
        .catch((e: unknown) => {
          log.error({ err: e, saga }, 'firing timeouts failed; retrying');
          notBefore = clock.now() + waitMs;
        })
        .finally(() => {
          running = undefined;
          o.lookAgain();
        });
      return 0;
    },
    nextDue() {
      if (running) return undefined;
      const due = engine.nextTimeoutAt();
      return due === undefined ? undefined : Math.max(due, notBefore);
    },
    get inFlight() {
      return inFlight;
    },
  };
}
