/**
 * The DLQ stream's wire format: dead letters go to `dlq.<consumer>` in stream DLQ with the original
 * body, and the original subject, stream, sequence and the reason in headers.
 */
export const DLQ_STREAM = 'DLQ';

export const DLQ_HEADERS = {
  subject: 'Prosa-Original-Subject',
  stream: 'Prosa-Original-Stream',
  seq: 'Prosa-Original-Seq',
  reason: 'Prosa-Reason',
  consumer: 'Prosa-Consumer',
} as const;

/** The DLQ message id of a dead letter: a retry that fails again is a new message. */
export const deadLetterMsgId = (stream: string, seq: number, consumer: string, attempts: number): string =>
  attempts === 0 ? `${stream}:${seq}:${consumer}` : `${stream}:${seq}:${consumer}:retry-${attempts}`;
