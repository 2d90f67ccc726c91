/**
 * The operator's console as a person uses it: a real runtime (topology, a notes projection, a
 * saga) on a real nats-server, its console opened in headless Chromium. Screenshots of each view
 * go to docs/console-*.png when PROSA_SCREENSHOTS=1.
 */
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import topology from '../../projections/topology.js';
import { publishDemo } from '../../src/cim/demo/index.js';
import type { WorkerStatus } from '../../src/ops/status.js';
import { readTopologyView } from '../../src/ops/topologyView.js';
import { launchBrowser } from '../support/browser.js';
import { notes, notesFault } from '../support/fixtures/notes.js';
import { watchSaga } from '../support/fixtures/watchSaga.js';
import { startNatsServer, type TestNatsServer } from '../support/natsServer.js';
import { createTestRuntime, type TestRuntime } from '../support/runtimeHarness.js';

const SHOTS = process.env.PROSA_SCREENSHOTS === '1';
const SCRIPT_BODY = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

describe('the console in a browser, on a running runtime', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let t: TestRuntime;
  let browser: Browser;
  let page: Page;
  let base: string;
  /** Script errors and console errors of the page (a CSP violation among them). */
  const pageErrors: string[] = [];

  const publish = async (subject: string, body: unknown) => {
    await jetstream(nc).publish(subject, typeof body === 'string' ? body : JSON.stringify(body));
  };
  const shot = async (name: string) => {
    if (SHOTS) await page.screenshot({ path: `docs/console-${name}.png` });
  };
  const workerRow = (name: string) => page.locator(`tr[data-worker="${name}"]`);
  const statusOf = async (name: string): Promise<WorkerStatus> => {
    const s = await t.runtime.status();
    return [...s.projections, ...s.sagas].find((w) => w.name === name) as WorkerStatus;
  };

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    t = createTestRuntime(server.url, {
      streams: {
        NOTES: { mode: 'managed', subjects: ['notes.>'] },
        W: { mode: 'managed', subjects: ['w.>'] },
      },
      projections: [topology, notes],
      sagas: [watchSaga],
      defaults: { batch: { maxMessages: 200, maxWaitMs: 50 } },
      http: { host: '127.0.0.1', port: 0 },
    });
    await t.runtime.start();
    base = t.runtime.http?.url as string;
    await publishDemo({ js: jetstream(nc), events: 300, seed: 7 });
    await publish('notes.a', { type: 'Noted', id: 'a', text: 'first' });
    await publish('notes.a', { type: 'Noted', id: 'a', text: SCRIPT_BODY, poison: true });
    await publish('notes.a', { type: 'Noted', id: 'a', text: 'waits behind the poison' });
    await publish('notes.b', { type: 'Noted', id: 'b', text: 'doomed', poison: true });
    await publish('notes.b', { type: 'Noted', id: 'b', text: 'waits for b' });
    for (const id of ['w1', 'w2']) await publish(`w.${id}`, { type: 'Start', id });
    await t.runtime.caughtUp({ timeoutMs: 30_000 });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.cleanup();
    await nc?.close();
    await server?.cleanup();
  });

  it('shows every worker as the runtime reports it, updated live', async () => {
    await page.goto(`${base}/#workers`);
    await expect
      .poll(() => page.locator('body').getAttribute('data-updates'), { timeout: 15_000 })
      .toBeTruthy();
    const status = await t.runtime.status();
    for (const w of [...status.projections, ...status.sagas]) {
      const row = workerRow(w.name);
      const cell = (col: string) => row.locator(`td[data-col="${col}"]`).first();
      await expect.poll(() => cell('checkpoint').innerText(), { timeout: 15_000 }).toBe(String(w.checkpoint));
      expect(await cell('streamLastSeq').innerText()).toBe(String(w.streamLastSeq));
      expect((await cell('lag').innerText()).trim()).toBe(String(w.lag));
      expect(await cell('deadLettered').innerText()).toBe(String(w.deadLettered));
      expect(await cell('waiting').innerText()).toBe(String(w.waiting));
      expect(await cell('liveActors').innerText()).toBe(String(w.liveActors));
      expect(await cell('state').locator('span.state').innerText()).toBe(w.state);
    }
    expect((await statusOf('notes')).deadLettered).toBe(2);
  });

  it('pauses and resumes a worker from its row, the lag rising and falling without a reload', async () => {
    await workerRow('notes').locator('button[data-action="pause"]').click();
    await expect.poll(async () => (await statusOf('notes')).state, { timeout: 15_000 }).toBe('paused');
    await expect
      .poll(() => workerRow('notes').locator('span.state').innerText(), { timeout: 15_000 })
      .toBe('paused');
    await expect.poll(() => page.locator('#message').innerText()).toContain('notes: paused');
    for (let i = 0; i < 40; i++) await publish('notes.c', { type: 'Noted', id: 'c', text: `n${i}` });
    const lag = () => workerRow('notes').locator('td[data-col="lag"] span').innerText();
    await expect.poll(lag, { timeout: 15_000 }).toBe('40');
    await shot('workers');
    await workerRow('notes').locator('button[data-action="resume"]').click();
    await expect.poll(async () => (await statusOf('notes')).state, { timeout: 15_000 }).toBe('running');
    await expect
      .poll(() => workerRow('notes').locator('span.state').innerText(), { timeout: 15_000 })
      .toBe('running');
    await expect.poll(lag, { timeout: 15_000 }).toBe('0');
  });

  it('lists dead letters with a <script> body shown as text, never run', async () => {
    await page.goto(`${base}/#dead-letters`);
    const card = page.locator('section[data-dead-letter="notes:2"]');
    await card.waitFor({ timeout: 15_000 });
    const body = card.locator('pre[data-field="body"]');
    expect(await body.innerText()).toContain('<script>window.__pwned = 1</script>');
    expect(await body.locator('script, img').count()).toBe(0);
    expect(
      await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned),
    ).toBeUndefined();
    expect(await card.locator('[data-field="reason"]').innerText()).toContain('poisoned note a');
    expect(await card.locator('[data-field="subject"]').innerText()).toBe('notes.a');
    expect(await card.locator('[data-field="waiting"]').innerText()).toContain(
      '1 event waiting behind it: #3 notes.a',
    );
    await shot('dead-letters');
  });

  it('retries a dead letter after the fix and skips another, and shows what each did', async () => {
    notesFault.broken = false;
    await page.locator('section[data-dead-letter="notes:2"] button[data-action="retry"]').click();
    await expect
      .poll(() => page.locator('#message').innerText(), { timeout: 15_000 })
      .toContain('1 applied, 0 dead-lettered again');
    notesFault.broken = true;
    await page.locator('section[data-dead-letter="notes:4"] button[data-action="skip"]').click();
    await expect
      .poll(() => page.locator('#message').innerText(), { timeout: 15_000 })
      .toContain('skipped dead letter 4 of notes');
    await page.locator('#no-dead-letters').waitFor({ timeout: 15_000 });
    const s = await statusOf('notes');
    expect(s.deadLettered).toBe(0);
    expect(s.waiting).toBe(0);
    const db = new Database(t.sqlitePath, { readonly: true });
    try {
      expect(db.prepare('SELECT id, text, events FROM notes ORDER BY id').all()).toEqual([
        { id: 'a', text: 'waits behind the poison', events: 3 },
        { id: 'b', text: 'waits for b', events: 1 },
        { id: 'c', text: 'n39', events: 40 },
      ]);
    } finally {
      db.close();
    }
  });

  it("shows a saga's instances and timers, and cancels a timer (opened straight on that view)", async () => {
    await page.goto('about:blank');
    await page.goto(`${base}/#sagas`);
    const timer = page.locator('tr[data-timer="w1:late"]');
    await timer.waitFor({ timeout: 15_000 });
    expect(await page.locator('tr[data-timer]').count()).toBe(2);
    await shot('sagas');
    await timer.locator('button[data-action="cancel"]').click();
    await expect
      .poll(() => page.locator('#message').innerText(), { timeout: 15_000 })
      .toContain('timeout late of w1 cancelled');
    await expect.poll(() => page.locator('tr[data-timer]').count(), { timeout: 15_000 }).toBe(1);
  });

  it('draws the demo topology as a graph and finds a resource by search', async () => {
    const db = new Database(t.sqlitePath, { readonly: true });
    const view = (() => {
      try {
        return readTopologyView(db);
      } finally {
        db.close();
      }
    })();
    expect(view.resources.length).toBeGreaterThan(0);
    await page.goto(`${base}/#topology`);
    const graph = page.locator('#graph[data-resources]');
    await graph.waitFor({ timeout: 20_000 });
    expect(Number(await graph.getAttribute('data-resources'))).toBe(view.resources.length);
    expect(Number(await graph.getAttribute('data-networks'))).toBeGreaterThanOrEqual(view.networks.length);
    expect(await page.locator('#graph canvas').count()).toBeGreaterThan(0);
    const target = view.resources.find((r) => r.hostname) ?? view.resources[0];
    await page.locator('#search').fill(target?.hostname ?? target?.id ?? '');
    await expect.poll(() => page.locator('#matches').innerText()).toMatch(/^\d+ match/);
    expect(await page.locator('[data-field="details"]').innerText()).toContain(target?.id ?? '');
    await page.locator('#search').fill('');
    await shot('topology');
  });

  it('rebuilds a projection and shows its progress until the swap', async () => {
    await page.goto(`${base}/#rebuilds`);
    const row = page.locator('tr[data-rebuild="notes"]');
    await row.waitFor({ timeout: 15_000 });
    await row.locator('button[data-action="rebuild"]').click();
    await expect
      .poll(() => row.locator('td[data-col="progress"]').innerText(), { timeout: 30_000 })
      .toMatch(/swapped in at \d+/);
    await shot('rebuilds');
  });

  it('ran without a script error or a refused resource on any view', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe('the console beyond loopback, in a browser', () => {
  const TOKEN = 'browser-test-token-0123456789';
  let server: TestNatsServer;
  let t: TestRuntime;
  let browser: Browser;

  beforeAll(async () => {
    server = await startNatsServer();
    t = createTestRuntime(server.url, {
      streams: { NOTES: { mode: 'managed', subjects: ['notes.>'] } },
      projections: [notes],
      http: { host: '0.0.0.0', port: 0, console: { token: TOKEN, protectReads: true } },
    });
    await t.runtime.start();
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.cleanup();
    await server?.cleanup();
  });

  it('asks for the token, shows nothing without the right one, and acts with it', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`http://127.0.0.1:${t.runtime.http?.port}/#workers`);
    const form = page.locator('#token-form');
    await form.waitFor({ timeout: 15_000 });
    expect(await page.locator('tr[data-worker]').count()).toBe(0);
    await page.locator('#token').fill('not-the-token-at-all-000');
    // The submit hides the form at once; the server's 401 to the wrong token brings it back.
    await page.locator('#token-form button').click();
    await expect.poll(() => form.isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await page.locator('#live').innerText()).toContain('HTTP 401');
    expect(await page.locator('tr[data-worker]').count()).toBe(0);
    await page.locator('#token').fill(TOKEN);
    await page.locator('#token-form button').click();
    const row = page.locator('tr[data-worker="notes"]');
    await row.waitFor({ timeout: 15_000 });
    await row.locator('button[data-action="pause"]').click();
    await expect
      .poll(async () => (await t.runtime.status()).projections[0]?.state, { timeout: 15_000 })
      .toBe('paused');
    await page.close();
  });
});
