/**
 * A dead letter as the console shows it: its body as indented JSON, as text, or as hex when it is
 * not UTF-8 (the page puts it in a text node, never in HTML), and the events waiting behind it.
 */
import type { DeadLetterEntry } from '../../ops/deadLetters.js';
import type { SqliteDatabase } from '../../store/database.js';
import { loadWaiting } from '../../store/waiting.js';

/** Bodies beyond this are cut (the page is for reading, `prosa dlq ls --json` has them whole). */
const MAX_BODY_BYTES = 64 * 1024;
/** Waiting events listed per dead letter (the count is always whole). */
const MAX_WAITING_LISTED = 50;

export interface BodyView {
  encoding: 'json' | 'text' | 'hex';
  text: string;
  bytes: number;
  truncated: boolean;
}

export interface DeadLetterView {
  worker: string;
  consumer: string;
  seq: number;
  dlqSeq: number;
  stream: string;
  subject: string;
  reason: string;
  time: string;
  body: BodyView;
  waiting: number;
  waitingEvents: { seq: number; subject: string }[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = [...bytes.subarray(i, i + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    lines.push(`${i.toString(16).padStart(8, '0')}  ${row}`);
  }
  return lines.join('\n');
}

export function bodyView(data: Uint8Array): BodyView {
  const truncated = data.length > MAX_BODY_BYTES;
  const bytes = truncated ? data.subarray(0, MAX_BODY_BYTES) : data;
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { encoding: 'hex', text: hexDump(bytes), bytes: data.length, truncated };
  }
  if (!truncated) {
    try {
      return {
        encoding: 'json',
        text: JSON.stringify(JSON.parse(text), null, 2),
        bytes: data.length,
        truncated,
      };
    } catch {
      // not JSON: shown as text
    }
  }
  return { encoding: 'text', text, bytes: data.length, truncated };
}

/** For each blocking seq, the waiting events held behind it, directly or through other waiting events. */
export function waitingBehind(
  db: SqliteDatabase,
  worker: string,
): Map<number, { seq: number; subject: string }[]> {
  const { waiting } = loadWaiting(db, worker);
  const bySeq = new Map(waiting.map((w) => [w.seq, w]));
  const blockers = new Map<number, Set<number>>();
  const visiting = new Set<number>(); // a waiting event only waits for earlier ones; this only guards a bad row
  const blockersOf = (seq: number): Set<number> => {
    const known = blockers.get(seq);
    if (known) return known;
    const out = new Set<number>();
    if (visiting.has(seq)) return out;
    visiting.add(seq);
    for (const a of bySeq.get(seq)?.after ?? []) {
      out.add(a);
      if (bySeq.has(a)) for (const b of blockersOf(a)) out.add(b);
    }
    visiting.delete(seq);
    blockers.set(seq, out);
    return out;
  };
  const behind = new Map<number, { seq: number; subject: string }[]>();
  for (const w of waiting) {
    for (const b of blockersOf(w.seq)) {
      const list = behind.get(b) ?? [];
      list.push({ seq: w.seq, subject: w.subject });
      behind.set(b, list);
    }
  }
  for (const list of behind.values()) list.sort((a, b) => a.seq - b.seq);
  return behind;
}

export function deadLetterViews(
  entries: readonly DeadLetterEntry[],
  workerOf: (consumer: string) => string,
  db: SqliteDatabase,
): DeadLetterView[] {
  const behindByWorker = new Map<string, Map<number, { seq: number; subject: string }[]>>();
  return entries.map((e) => {
    const worker = workerOf(e.consumer);
    let behind = behindByWorker.get(worker);
    if (!behind) {
      behind = waitingBehind(db, worker);
      behindByWorker.set(worker, behind);
    }
    const events = behind.get(e.seq) ?? [];
    return {
      worker,
      consumer: e.consumer,
      seq: e.seq,
      dlqSeq: e.dlqSeq,
      stream: e.stream,
      subject: e.subject,
      reason: e.reason,
      time: e.time,
      body: bodyView(e.data),
      waiting: e.waiting ?? events.length,
      waitingEvents: events.slice(0, MAX_WAITING_LISTED),
    };
  });
}
