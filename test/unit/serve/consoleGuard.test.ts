import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ProsaError } from '../../../src/errors.js';
import { assertConsoleStartable, createGuard, isLoopback } from '../../../src/serve/console/consoleGuard.js';
import { bodyView } from '../../../src/serve/console/deadLetterView.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('console guard', () => {
  it('knows loopback addresses from the others', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopback(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', '127.0.0.1.evil.example'])
      expect(isLoopback(h)).toBe(false);
  });

  it('refuses to start beyond loopback without a token, and starts with one', () => {
    expect(() => assertConsoleStartable({ host: '0.0.0.0', token: undefined, protectReads: false })).toThrow(
      ProsaError,
    );
    expect(() =>
      assertConsoleStartable({ host: '0.0.0.0', token: 'x'.repeat(16), protectReads: false }),
    ).not.toThrow();
    expect(() =>
      assertConsoleStartable({ host: '127.0.0.1', token: undefined, protectReads: false }),
    ).not.toThrow();
  });

  it('on loopback asks an action for its header and a same-site Origin, not a token', () => {
    const g = createGuard({ host: '127.0.0.1', token: undefined, protectReads: false });
    const host = { host: '127.0.0.1:9464' };
    expect(g.action(req({ ...host, 'x-prosa-console': '1' }))).toBeUndefined();
    expect(
      g.action(req({ ...host, 'x-prosa-console': '1', origin: 'http://127.0.0.1:9464' })),
    ).toBeUndefined();
    expect(g.action(req({ ...host, 'x-prosa-console': '1', origin: 'http://127.0.0.1:9465' }))?.status).toBe(
      403,
    );
    expect(g.action(req({ ...host, 'x-prosa-console': '1', origin: 'null' }))?.status).toBe(403);
    expect(g.action(req(host))?.status).toBe(403);
    expect(g.read(req({ host: 'rebound.example:9464' }))?.status).toBe(403);
    expect(g.read(req(host))).toBeUndefined();
  });

  it('with a token, refuses an action without it or with another', () => {
    const g = createGuard({ host: '0.0.0.0', token: 'the-right-token-0001', protectReads: false });
    const base = { host: '10.0.0.5:9464', 'x-prosa-console': '1' };
    expect(g.action(req(base))?.status).toBe(401);
    expect(g.action(req({ ...base, authorization: 'Bearer the-wrong-token-001' }))?.status).toBe(401);
    expect(g.action(req({ ...base, authorization: 'the-right-token-0001' }))?.status).toBe(401);
    expect(g.action(req({ ...base, authorization: 'Bearer the-right-token-0001' }))).toBeUndefined();
    expect(g.read(req({ host: '10.0.0.5:9464' }))).toBeUndefined();
  });
});

describe('dead letter bodies', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);

  it('indents JSON, keeps other UTF-8 as text, and shows the rest as hex', () => {
    expect(bodyView(bytes('{"a":[1,"<script>"]}'))).toEqual({
      encoding: 'json',
      text: '{\n  "a": [\n    1,\n    "<script>"\n  ]\n}',
      bytes: 20,
      truncated: false,
    });
    expect(bodyView(bytes('<b>not json</b>'))).toMatchObject({ encoding: 'text', text: '<b>not json</b>' });
    const binary = bodyView(new Uint8Array([0xff, 0x00, 0x41, ...new Array(16).fill(0x10)]));
    expect(binary.encoding).toBe('hex');
    expect(binary.text.split('\n')).toEqual([
      '00000000  ff 00 41 10 10 10 10 10 10 10 10 10 10 10 10 10',
      '00000010  10 10 10',
    ]);
  });

  it('cuts a body beyond 64 KiB and says so', () => {
    const v = bodyView(bytes(`"${'x'.repeat(70_000)}"`));
    expect(v).toMatchObject({ encoding: 'text', bytes: 70_002, truncated: true });
    expect(v.text.length).toBe(64 * 1024);
  });
});
