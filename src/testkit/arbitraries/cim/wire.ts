/** Generated events on the wire: the CIM envelope around a payload, as UTF-8 JSON with its subject and sequence. */
import {
  buildInfrastructureEnvelope,
  type InfrastructureEventType,
  type InfrastructurePayloadInput,
  infrastructureSubjects,
  type RawEvent,
} from '../../../internal.js';
import { uuidV7Base } from '../ids.js';
import { type Instant, renderInstantAutoSi } from '../time.js';

/** The one infrastructure aggregate all generated events belong to. */
export const GENERATED_AGGREGATE_ID = '01900000-0000-7000-8000-000000000001';

/** Where a generated event sits in its stream: its time, how the time is written, its index. */
export interface EnvelopeIds {
  at: Instant;
  timestamp: string;
  index: number;
  causationNull?: boolean;
  extraFields?: boolean;
}

/** The envelope object of one generated event (ids derived from its index and time). */
export function cimEnvelope<T extends InfrastructureEventType>(
  type: T,
  payload: InfrastructurePayloadInput<T>,
  ids: EnvelopeIds,
) {
  const ms = ids.at.s * 1000 + Math.floor(ids.at.ns / 1e6);
  const base = uuidV7Base(ms, ids.index);
  const env = buildInfrastructureEnvelope(
    type,
    {
      ...payload,
      event_id: `${base}0000000001`,
      correlation_id: `${base}0000000002`,
      causation_id: ids.index > 0 ? `${base}0000000006` : null,
      timestamp: renderInstantAutoSi(ids.at),
    },
    {
      aggregateId: GENERATED_AGGREGATE_ID,
      eventId: `${base}0000000003`,
      correlationId: `${base}0000000004`,
      causationId: ids.causationNull ? null : `${base}0000000005`,
      timestamp: ids.timestamp,
    },
  );
  if (ids.extraFields) {
    // Fields a newer crate might add: a reader must ignore them.
    (env as unknown as Record<string, unknown>).schema_version = 2;
    (env.data as unknown as Record<string, Record<string, unknown>>)[type]!.x_trace = { origin: 'generated' };
  }
  return env;
}

// Bodies are written into shared 4 MiB slabs and handed out as views, rather than one allocation
// per body: the seed generator makes 200,000 of them.
const SLAB_BYTES = 4 * 1024 * 1024;
const textEncoder = new TextEncoder();
let slab = new Uint8Array(0);
let slabOffset = 0;

export function utf8(text: string): Uint8Array {
  const max = text.length * 3;
  if (slabOffset + max > slab.length) {
    slab = new Uint8Array(Math.max(SLAB_BYTES, max));
    slabOffset = 0;
  }
  const written = textEncoder.encodeInto(text, slab.subarray(slabOffset)).written;
  const view = slab.subarray(slabOffset, slabOffset + written);
  slabOffset += written;
  return view;
}

export const wire = (type: InfrastructureEventType, body: unknown, seq: number): RawEvent => ({
  subject: infrastructureSubjects[type],
  seq,
  data: utf8(JSON.stringify(body)),
});
