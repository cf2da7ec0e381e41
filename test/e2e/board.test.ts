import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createSimulator } from '../../src/simulator/server.js';
import { ensureChromium, launchChromium } from '../helpers/browser.js';
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

const boardUrl = (graphqlUrl: string, ids: string[]) => `${graphqlUrl.replace(/\/graphql$/, '/')}?entity=${ENTITY}&ids=${ids.join(',')}`;
const status = (page: Page, id: string) => page.getByTestId(`row-${id}`).getAttribute('data-status');

describe('the live status board in Chromium', () => {
  it('shows a row going through its states live: no reload, one HTTP request for its query, no console errors', async () => {
    const { app, simulator } = await startStack(BOARD_ENV);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'INIT', isAuto: false });
    const { page, problems, graphqlPosts } = await openPage(boardUrl(app.url, [a.activityId]));
    await expect.poll(() => status(page, a.activityId), { timeout: 15_000 }).toBe('INIT');
    await expect.poll(() => page.getByTestId('connection-banner').getAttribute('data-state'), { timeout: 10_000 }).toBe('connected');
    for (const [next, queuedCount] of [['UPLOADED', 0], ['QUEUED', 2], ['PROCESSING', 0], ['PROCESSED', 0]] as const) {
      simulator.setState(ENTITY, a.activityId, { status: next, queuedCount });
      await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe(next);
      if (next === 'QUEUED') expect(await page.getByTestId(`row-${a.activityId}`).getByTestId('queue').textContent()).toBe('#2 in queue');
    }
    await expect.poll(() => page.getByTestId(`row-${a.activityId}`).textContent()).toContain('finished');
    // Every activity finished: the socket closes normally, which is not a lost connection.
    await expect.poll(() => page.getByTestId('connection-banner').getAttribute('data-state')).toBe('idle');
    expect(graphqlPosts.filter((body) => body.includes('uploadActivities('))).toHaveLength(1);
    expect(problems).toEqual([]);
  });

  it('shows an ABORTED row with its message and an unknown id as not found', async () => {
    const { app, simulator } = await startStack(BOARD_ENV);
    const aborted = simulator.createActivity({ taxableEntityId: ENTITY, status: 'ABORTED', errorMessage: 'Row 7: invalid HSN code', isAuto: false });
    const moving = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 3, isAuto: false });
    const { page, problems } = await openPage(boardUrl(app.url, [aborted.activityId, MISSING, moving.activityId]));
    await expect.poll(() => status(page, aborted.activityId), { timeout: 15_000 }).toBe('ABORTED');
    expect(await page.getByTestId(`row-${aborted.activityId}`).getByTestId('error-message').textContent()).toBe('Row 7: invalid HSN code');
    await expect.poll(() => page.getByTestId(`row-${MISSING}`).getByTestId('row-error').textContent()).toContain('Not found');
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
    await expect.poll(() => page.getByTestId('connection-banner').getAttribute('data-state'), { timeout: 10_000 }).toBe('connected');

    await first.app.stop();
    await expect.poll(() => page.getByTestId('connection-banner').getAttribute('data-state'), { timeout: 10_000 }).toBe('disconnected');
    expect(await page.getByTestId('connection-banner').textContent()).toContain('reconnecting');

    const port = new URL(first.app.url).port;
    await startStack({ ...env, PORT: port });
    await expect.poll(() => page.getByTestId('connection-banner').textContent(), { timeout: 20_000 }).toContain('reconnected');
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSING', queuedCount: 0 });
    await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe('PROCESSING');
  });

  it('shows the simulator\'s demo uploads moving at /, with nothing to type', async () => {
    const { app } = await startStack({ ...BOARD_ENV, AUTH_MODE: '' }, { shouldSeed: true, stepMs: 150, demoEverySteps: 2 });
    const { page, problems } = await openPage(app.url.replace(/\/graphql$/, '/'));
    await expect.poll(() => page.locator('[data-testid^="row-"]').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(5);
    const statuses = () => page.locator('[data-testid^="row-"]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-status')).join());
    const first = await statuses();
    await expect.poll(statuses, { timeout: 10_000 }).not.toBe(first);
    await page.screenshot({ path: `${SCREENSHOTS}board-demo.png`, fullPage: true, animations: 'disabled' });
    expect(problems).toEqual([]);
  });

  it('fits a phone-width screen without horizontal scrolling', async () => {
    const { app, simulator } = await startStack(BOARD_ENV);
    const ids = [
      simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 12, isAuto: false }),
      simulator.createActivity({ taxableEntityId: ENTITY, status: 'ABORTED', errorMessage: 'Invalid GSTIN in row 3: 27AAAAA0000A1Z5 is not registered', isAuto: false }),
    ].map((a) => a.activityId);
    const { page, problems } = await openPage(boardUrl(app.url, [...ids, MISSING]), { width: 375, height: 740 });
    await expect.poll(() => status(page, ids[1]!), { timeout: 15_000 }).toBe('ABORTED');
    await expect.poll(() => page.getByTestId(`row-${MISSING}`).getAttribute('data-status')).toBe('ERROR');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${SCREENSHOTS}board-phone.png`, fullPage: true, animations: 'disabled' });
    expect(problems).toEqual([]);
  });
});
