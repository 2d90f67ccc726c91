// The consumer reads each message's stream sequence, delivery sequence and pending count from its
// ack subject (src/nats/consumer.ts) instead of JsMsg.info; both forms the server sends must give them.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readAckSubject } from '../../../src/nats/consumer.js';

describe('readAckSubject', () => {
  it('reads the 9-token form', () => {
    expect({ ...readAckSubject('$JS.ACK.EVENTS.worker.1.951.12.1733011200000000000.0') }).toEqual({
      stream: 951,
      delivery: 12,
      pending: 0,
    });
  });

  it('reads the form with a domain, an account hash and a trailing token', () => {
    expect({
      ...readAckSubject('$JS.ACK.hub.ACCHASH.EVENTS.worker.2.77.5.1733011200000000000.40213.k2x9'),
    }).toEqual({ stream: 77, delivery: 5, pending: 40213 });
    expect({ ...readAckSubject('$JS.ACK._.ACCHASH.EVENTS.worker.1.3.3.1733011200000000000.9') }).toEqual({
      stream: 3,
      delivery: 3,
      pending: 9,
    });
  });

  it('gives back any numbers up to 2^53 in either form', () => {
    const n = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
    fc.assert(
      fc.property(n, n, n, fc.boolean(), (stream, delivery, pending, long) => {
        const subject = long
          ? `$JS.ACK.d.h.S.c.1.${stream}.${delivery}.1.${pending}.r`
          : `$JS.ACK.S.c.1.${stream}.${delivery}.1.${pending}`;
        expect({ ...readAckSubject(subject) }).toEqual({ stream, delivery, pending });
      }),
    );
  });

  it('refuses a subject that is not a JetStream ack', () => {
    expect(() => readAckSubject('_INBOX.abc.1')).toThrow(/not a JetStream ack subject/);
    expect(() => readAckSubject('$JS.API.CONSUMER.INFO.a.b.c.d.e')).toThrow(/not a JetStream ack subject/);
  });
});
