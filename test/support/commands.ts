/** Reads what a COMMANDS stream holds, for saga tests. */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { SagaCommand } from '../../src/engine/sagaEngine.js';

export interface StoredCommand extends SagaCommand {
  subject: string;
  msgId: string | undefined;
  /** The saga lease revision it was published under (`Prosa-Lease`), when it had one. */
  lease: string | undefined;
}

/**
 * Every command in the stream, in order. COMMANDS has work-queue retention, where a consumer would
 * take the messages away (and an ack-less ordered consumer is refused), so this gets them one by one.
 */
export async function readCommands(
  _js: JetStreamClient,
  jsm: JetStreamManager,
  stream = 'COMMANDS',
): Promise<StoredCommand[]> {
  const { first_seq: first, last_seq: last, messages } = (await jsm.streams.info(stream)).state;
  const out: StoredCommand[] = [];
  if (messages === 0) return out;
  for (let seq = first; seq <= last; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (m)
      out.push({
        ...(m.json() as SagaCommand),
        subject: m.subject,
        msgId: m.header.get('Nats-Msg-Id') || undefined,
        lease: m.header.get('Prosa-Lease') || undefined,
      });
  }
  return out;
}
