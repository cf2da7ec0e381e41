import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createSimulator } from '../../src/simulator/server.js';
import { ensureChromium, launchChromium } from '../helpers/browser.js';
import { HS_SECRET, hsKey, sign } from '../helpers/jwt.js';
import { ENTITY, startStack } from '../helpers/stack.js';

const SCREENSHOTS = new URL('./screenshots/', import.meta.url).pathname;
const MISSING = '99999999-9999-4999-8999-999999999999';
/** The board in open mode against the embedded simulator, polling fast. */
const BOARD_ENV = { AUTH_MODE: 'open', POLL_INTERVAL_MS: '50', POLL_MAX_INTERVAL_MS: '200' };

let browser: Browser;

beforeAll(async () => {
  ensureChromium(); // done by test/global-setup.ts already; cheap when present
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
});

/** A page that records console errors, page errors and GraphQL requests over HTTP. */
async function openPage(url: string, viewport = { width: 1100, height: 800 }) {
  const context = await browser.newContext({ viewport });
  onTestFinished(() => context.close());
  const page = await context.newPage();
  const problems: string[] = [];
  const graphqlPosts: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('request', (request) => {
    if (request.url().endsWith('/graphql') && request.method() === 'POST') graphqlPosts.push(request.postData() ?? '');
  });
  await page.goto(url);
  return { page, problems, graphqlPosts };
}

const boardUrl = (graphqlUrl: string, ids: string[]) =>
  `${graphqlUrl.replace(/\/graphql$/, '/')}?entity=${ENTITY}&ids=${ids.join(',')}`;
const status = (page: Page, id: string) => page.getByTestId(`row-${id}`).getAttribute('data-status');
const banner = (page: Page) => page.getByTestId('connection-banner').getAttribute('data-state');
const rowError = (page: Page, id: string) => page.getByTestId(`row-${id}`).getByTestId('row-error');

describe('the live status board in Chromium', () => {
  it('shows a row going through its states live: no reload, one HTTP request for its query, no console errors', async () => {
    const { app, simulator } = await startStack(BOARD_ENV);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'INIT', isAuto: false });
    const { page, problems, graphqlPosts } = await openPage(boardUrl(app.url, [a.activityId]));
    await expect.poll(() => status(page, a.activityId), { timeout: 15_000 }).toBe('INIT');
    await expect
      .poll(() => page.getByTestId('connection-banner').getAttribute('data-state'), { timeout: 10_000 })
      .toBe('connected');
    for (const [next, queuedCount] of [
      ['UPLOADED', 0],
      ['QUEUED', 2],
      ['PROCESSING', 0],
      ['PROCESSED', 0],
    ] as const) {
      simulator.setState(ENTITY, a.activityId, { status: next, queuedCount });
      await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe(next);
      if (next === 'QUEUED')
        expect(await page.getByTestId(`row-${a.activityId}`).getByTestId('queue').textContent()).toBe('#2 in queue');
    }
    await expect.poll(() => page.getByTestId(`row-${a.activityId}`).textContent()).toContain('finished');
    // Every activity finished: the socket closes normally, which is not a lost connection.
    await expect.poll(() => page.getByTestId('connection-banner').getAttribute('data-state')).toBe('idle');
    expect(graphqlPosts.filter((body) => body.includes('uploadActivities('))).toHaveLength(1);
    expect(problems).toEqual([]);
  });

  it('shows an ABORTED row with its message and an unknown id as not found', async () => {
    const { app, simulator } = await startStack(BOARD_ENV);
    const aborted = simulator.createActivity({
      taxableEntityId: ENTITY,
      status: 'ABORTED',
      errorMessage: 'Row 7: invalid HSN code',
      isAuto: false,
    });
    const moving = simulator.createActivity({
      taxableEntityId: ENTITY,
      status: 'QUEUED',
      queuedCount: 3,
      isAuto: false,
    });
    const { page, problems } = await openPage(boardUrl(app.url, [aborted.activityId, MISSING, moving.activityId]));
    await expect.poll(() => status(page, aborted.activityId), { timeout: 15_000 }).toBe('ABORTED');
    expect(await page.getByTestId(`row-${aborted.activityId}`).getByTestId('error-message').textContent()).toBe(
      'Row 7: invalid HSN code',
    );
    await expect
      .poll(() => page.getByTestId(`row-${MISSING}`).getByTestId('row-error').textContent())
      .toContain('Not found');
    expect(await status(page, moving.activityId)).toBe('QUEUED');
    await page.screenshot({ path: `${SCREENSHOTS}board-desktop.png`, fullPage: true, animations: 'disabled' });
    expect(problems).toEqual([]);
  });

  it('says when the live connection drops, and recovers the live updates when the gateway is back', async () => {
    const simulator = createSimulator({ stepMs: 0 });
    const upstream = await simulator.start();
    onTestFinished(() => simulator.stop());
    const env = { ...BOARD_ENV, CLEARTAX_BASE_URL: upstream, CLEARTAX_AUTH_TOKEN: 'server-token' };
    const first = await startStack(env);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 5, isAuto: false });
    const { page } = await openPage(boardUrl(first.app.url, [a.activityId]));
    await expect.poll(() => status(page, a.activityId), { timeout: 15_000 }).toBe('QUEUED');
    await expect
      .poll(() => page.getByTestId('connection-banner').getAttribute('data-state'), { timeout: 10_000 })
      .toBe('connected');

    await first.app.stop();
    await expect
      .poll(() => page.getByTestId('connection-banner').getAttribute('data-state'), { timeout: 10_000 })
      .toBe('disconnected');
    expect(await page.getByTestId('connection-banner').textContent()).toContain('reconnecting');

    const port = new URL(first.app.url).port;
    await startStack({ ...env, PORT: port });
    await expect
      .poll(() => page.getByTestId('connection-banner').textContent(), { timeout: 20_000 })
      .toContain('reconnected');
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSING', queuedCount: 0 });
    await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe('PROCESSING');
  });

  it("shows the simulator's demo uploads moving at /, with nothing to type", async () => {
    const { app } = await startStack(
      { ...BOARD_ENV, AUTH_MODE: '' },
      { shouldSeed: true, stepMs: 150, demoEverySteps: 2 },
    );
    const { page, problems } = await openPage(app.url.replace(/\/graphql$/, '/'));
    await expect
      .poll(() => page.locator('[data-testid^="row-"]').count(), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(5);
    const statuses = () =>
      page
        .locator('[data-testid^="row-"]')
        .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-status')).join());
    const first = await statuses();
    await expect.poll(statuses, { timeout: 10_000 }).not.toBe(first);
    await page.screenshot({ path: `${SCREENSHOTS}board-demo.png`, fullPage: true, animations: 'disabled' });
    expect(problems).toEqual([]);
  });

  it('fits a phone-width screen without horizontal scrolling', async () => {
    const { app, simulator } = await startStack(BOARD_ENV);
    const ids = [
      simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 12, isAuto: false }),
      simulator.createActivity({
        taxableEntityId: ENTITY,
        status: 'ABORTED',
        errorMessage: 'Invalid GSTIN in row 3: 27AAAAA0000A1Z5 is not registered',
        isAuto: false,
      }),
    ].map((a) => a.activityId);
    const { page, problems } = await openPage(boardUrl(app.url, [...ids, MISSING]), { width: 375, height: 740 });
    await expect.poll(() => status(page, ids[1]!), { timeout: 15_000 }).toBe('ABORTED');
    await expect.poll(() => page.getByTestId(`row-${MISSING}`).getAttribute('data-status')).toBe('ERROR');
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${SCREENSHOTS}board-phone.png`, fullPage: true, animations: 'disabled' });
    expect(problems).toEqual([]);
  });
});

describe("the board's credentials and its health signals in Chromium", () => {
  it('takes a #jwt=… into sessionStorage and off the address bar at once: no URL or link of the board holds it, and the rows load, also after a reload', async () => {
    const { app, simulator } = await startStack({
      ...BOARD_ENV,
      AUTH_MODE: 'jwt',
      CLEARTAX_AUTH_TOKEN: 'server-token',
      AUTH_JWT_SECRET: HS_SECRET,
    });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 4, isAuto: false });
    const b = simulator.createActivity({ taxableEntityId: ENTITY, status: 'UPLOADED', isAuto: false });
    const jwt = await sign({ sub: 'user-1', taxable_entity_ids: [ENTITY] }, hsKey(), 'HS256');
    const plain = boardUrl(app.url, [a.activityId]);
    const { page, problems } = await openPage(`${plain}#jwt=${jwt}`);
    await expect.poll(() => status(page, a.activityId), { timeout: 15_000 }).toBe('QUEUED');
    /** Every address the page shows or links to that holds the JWT. */
    const leaks = () =>
      page.evaluate(
        (secret) =>
          [
            window.location.href,
            ...Array.from(document.querySelectorAll('a[href]'), (link) => (link as HTMLAnchorElement).href),
          ].filter((url) => url.includes(secret)),
        jwt,
      );
    expect(await page.evaluate(() => window.location.href)).toBe(plain);
    expect(await page.getByTestId('view-link').evaluate((link) => (link as HTMLAnchorElement).href)).toBe(plain);
    expect(await leaks()).toEqual([]);
    expect(await page.evaluate(() => sessionStorage.getItem('gateway-jwt'))).toBe(jwt);

    // A view the board builds itself (an id added) is pushed without it too.
    await page.getByLabel('Activity ids').fill(b.activityId);
    await page.getByRole('button', { name: /^Watch/ }).click();
    await expect.poll(() => status(page, b.activityId), { timeout: 10_000 }).toBe('UPLOADED');
    const both = `${app.url.replace(/\/graphql$/, '/')}?entity=${ENTITY}&ids=${encodeURIComponent(`${a.activityId},${b.activityId}`)}`;
    expect(await page.evaluate(() => window.location.href)).toBe(both);
    expect(await leaks()).toEqual([]);

    // A reload reads the JWT from sessionStorage: the rows load and stay live.
    await page.reload();
    await expect.poll(() => status(page, b.activityId), { timeout: 15_000 }).toBe('UPLOADED');
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSING', queuedCount: 0 });
    await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe('PROCESSING');
    expect(await leaks()).toEqual([]);

    // A new #jwt=… handed to the open tab (an identity provider's redirect) is taken the same way.
    const renewed = await sign({ sub: 'user-1', taxable_entity_ids: [ENTITY], renewed: true }, hsKey(), 'HS256');
    await page.evaluate((next) => (window.location.hash = `jwt=${next}`), renewed);
    await expect.poll(() => page.evaluate(() => sessionStorage.getItem('gateway-jwt'))).toBe(renewed);
    await expect.poll(() => page.evaluate(() => window.location.href)).toBe(both);
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSED', queuedCount: 0 });
    await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe('PROCESSED');
    expect(await leaks()).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('moves a row that showed an upstream error on to the states its subscription delivers once upstream recovers, and says upstream was unreachable meanwhile', async () => {
    const { app, simulator } = await startStack(BOARD_ENV);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 3, isAuto: false });
    const b = simulator.createActivity({ taxableEntityId: ENTITY, status: 'UPLOADED', isAuto: false });
    const { page } = await openPage(boardUrl(app.url, [a.activityId]));
    await expect.poll(() => status(page, a.activityId), { timeout: 15_000 }).toBe('QUEUED');
    await expect.poll(() => banner(page), { timeout: 10_000 }).toBe('connected');

    // ClearTax fails every read; once polls have met it, adding an id re-queries both rows, and both fail.
    simulator.addFault({ status: 503, times: Infinity });
    const failedBefore = simulator.stats.requests;
    await expect.poll(() => simulator.stats.requests, { timeout: 5_000 }).toBeGreaterThan(failedBefore + 2);
    await page.getByLabel('Activity ids').fill(b.activityId);
    await page.getByRole('button', { name: /^Watch/ }).click();
    await expect
      .poll(() => rowError(page, a.activityId).textContent(), { timeout: 10_000 })
      .toContain('Upstream unavailable');
    await expect.poll(() => rowError(page, b.activityId).textContent()).toContain('Upstream unavailable');
    expect(await banner(page)).toBe('upstream-down');

    // Upstream recovers: the subscription's states replace the errors, up to the terminal one.
    simulator.clearFaults();
    await expect.poll(() => status(page, b.activityId), { timeout: 10_000 }).toBe('UPLOADED');
    for (const next of ['PROCESSING', 'PROCESSED'] as const) {
      simulator.setState(ENTITY, a.activityId, { status: next, queuedCount: 0 });
      await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe(next);
    }
    expect(await rowError(page, a.activityId).count()).toBe(0);
    expect(await rowError(page, b.activityId).count()).toBe(0);
    await expect.poll(() => banner(page)).toBe('connected');
    expect(await page.getByTestId('connection-banner').textContent()).toBe('Live');
  });

  it('never takes a row back to an older state: a query answer read before a newer event, but arriving after it, is not shown', async () => {
    const { app, simulator } = await startStack(BOARD_ENV);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 3, isAuto: false });
    const b = simulator.createActivity({ taxableEntityId: ENTITY, status: 'UPLOADED', isAuto: false });
    const { page, problems } = await openPage(boardUrl(app.url, [a.activityId]));
    await expect.poll(() => status(page, a.activityId), { timeout: 15_000 }).toBe('QUEUED');

    // The next query's answer is read from the gateway at once (A still QUEUED), and held back from the page.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let read!: () => void;
    const wasRead = new Promise<void>((resolve) => (read = resolve));
    await page.route('**/graphql', async (route) => {
      if (!route.request().postData()?.includes('uploadActivities(')) return route.fallback();
      const response = await route.fetch();
      read();
      await released;
      await route.fulfill({ response });
    });
    await page.getByLabel('Activity ids').fill(b.activityId);
    await page.getByRole('button', { name: /^Watch/ }).click();
    await wasRead;
    // Meanwhile A moves on, and its subscription event (a later read) reaches the row first.
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSING', queuedCount: 0 });
    await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe('PROCESSING');

    release();
    await expect.poll(() => page.locator('section.board').getAttribute('aria-busy'), { timeout: 10_000 }).toBe('false');
    // Let the cache's row watchers (notified on a timer after a write) render.
    await page.evaluate(
      () => new Promise<void>((resolve) => setTimeout(() => requestAnimationFrame(() => setTimeout(resolve, 0)), 0)),
    );
    expect(await status(page, a.activityId)).toBe('PROCESSING');
    expect(await status(page, b.activityId)).toBe('UPLOADED');
    expect(problems).toEqual([]);
  });

  it('says upstream is unreachable when subscription events turn stale, and Live again with the next fresh one', async () => {
    const { app, simulator } = await startStack({ ...BOARD_ENV, STALE_AFTER_MS: '300' });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 2, isAuto: false });
    const { page, problems } = await openPage(boardUrl(app.url, [a.activityId]));
    await expect.poll(() => status(page, a.activityId), { timeout: 15_000 }).toBe('QUEUED');
    await expect.poll(() => banner(page), { timeout: 10_000 }).toBe('connected');
    expect(await page.getByTestId('connection-banner').textContent()).toBe('Live');

    simulator.addFault({ status: 503, times: Infinity });
    await expect.poll(() => banner(page), { timeout: 10_000 }).toBe('upstream-down');
    expect(await page.getByTestId('connection-banner').textContent()).toBe(
      'Upstream unreachable: showing the last known state',
    );
    expect(await page.getByTestId(`row-${a.activityId}`).locator('.stale').count()).toBe(1);
    expect(await status(page, a.activityId)).toBe('QUEUED');

    simulator.clearFaults();
    await expect.poll(() => banner(page), { timeout: 10_000 }).toBe('connected');
    expect(await page.getByTestId('connection-banner').textContent()).toBe('Live');
    expect(await page.getByTestId(`row-${a.activityId}`).locator('.stale').count()).toBe(0);
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSING', queuedCount: 0 });
    await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe('PROCESSING');
    expect(problems).toEqual([]);
  });
});
