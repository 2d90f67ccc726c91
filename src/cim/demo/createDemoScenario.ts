/**
 * The world's stories stamped into events: ids, correlation and causation, and a virtual clock.
 * Deterministic: the same seed, `start` and `spacingMs` give the same bytes. The ids look like the
 * crate's fresh UUID v7s (their time part is the event's time) but come from the seeded generator.
 */
import { formatTimestamp } from '../envelope.js';
import {
  encodeInfrastructureEvent,
  type InfrastructureEventType,
  type InfrastructurePayloadInput,
} from '../infrastructure.js';
import { seededRandom } from './seededRandom.js';
import { stories } from './stories.js';
import { uuidV7 } from './uuidV7.js';
import { createWorld } from './world.js';

/** One demo event: where it goes and the crate's exact bytes. */
export interface DemoEvent {
  subject: string;
  data: Uint8Array;
  type: InfrastructureEventType;
}

export interface DemoScenarioOptions {
  /** How many events the scenario yields (it is cut there, mid-story if need be). */
  events: number;
  /** @default 1 */
  seed?: number;
  /**
   * The first event's append time, epoch milliseconds.
   * @default 2025-01-06T09:00:00Z (fixed, so a seed alone gives the same bytes)
   */
  start?: number;
  /** Mean time between two events' append times, milliseconds (each step is 0.5x to 1.5x). @default 25 */
  spacingMs?: number;
  /** The one infrastructure aggregate's id (envelope `aggregate_id`). @default a UUID v7 from the seed */
  aggregateId?: string;
}

/** The default `start`: a Monday morning. */
export const DEMO_START = Date.UTC(2025, 0, 6, 9, 0, 0);

/** An instant kept as whole milliseconds plus the nanoseconds below them, so 9 digits stay exact. */
interface Instant {
  ms: number;
  ns: number;
}

const minus = (t: Instant, nanos: number): Instant => {
  let ms = t.ms;
  let ns = t.ns - nanos;
  while (ns < 0) {
    ns += 1_000_000;
    ms -= 1;
  }
  return { ms, ns };
};

/**
 * The demo story as the crates' wire messages: `events` messages, deterministic for a seed.
 *
 * Every event decodes as the crates' and refers to what exists: updates, removals and severed
 * connections name live entities, interfaces sit on defined networks with addresses inside their
 * CIDRs, connections join real interfaces. Events of one story share a domain `correlation_id`,
 * and each names the one before as its `causation_id`.
 *
 * @see publishDemo to put it on JetStream.
 */
export function createDemoScenario(options: DemoScenarioOptions): Iterable<DemoEvent> {
  const total = Math.max(0, Math.floor(options.events));
  return {
    *[Symbol.iterator]() {
      if (total === 0) return;
      const rnd = seededRandom(options.seed ?? 1);
      const spacingNs = Math.max(0, (options.spacingMs ?? 25) * 1e6);
      let now: Instant = { ms: Math.floor(options.start ?? DEMO_START), ns: 0 };
      const aggregateId = options.aggregateId ?? uuidV7(now.ms, rnd);
      let correlation = '';
      let cause: string | null = null;
      let emitted = 0;
      for (const story of stories(createWorld(rnd, () => now.ms))) {
        correlation = uuidV7(now.ms, rnd);
        cause = null;
        for (const s of story) {
          // The domain event happens a little before the crate appends it.
          const occurred = minus(now, rnd.between(20_000, 400_000));
          const eventId = uuidV7(occurred.ms, rnd);
          const appended = formatTimestamp(now.ms, now.ns);
          const { subject, data } = encodeInfrastructureEvent(
            s.type,
            {
              ...s.payload,
              event_id: eventId,
              correlation_id: correlation,
              causation_id: cause,
              timestamp: formatTimestamp(occurred.ms, occurred.ns),
            } as InfrastructurePayloadInput<typeof s.type>,
            {
              aggregateId,
              eventId: uuidV7(now.ms, rnd),
              correlationId: uuidV7(now.ms, rnd),
              causationId: uuidV7(now.ms, rnd),
              timestamp: appended,
            },
          );
          yield { subject, data, type: s.type };
          if (++emitted >= total) return;
          cause = eventId;
          // At least a nanosecond, so appends stay strictly in time order at any spacing.
          const advance = Math.round(spacingNs * (0.5 + rnd.next())) + 1 + rnd.int(1000);
          const ns = now.ns + advance;
          now = { ms: now.ms + Math.floor(ns / 1e6), ns: ns % 1e6 };
        }
      }
    },
  };
}
