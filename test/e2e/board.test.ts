import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
async function openPage(
  url: string,
  viewport = { width: 1100, height: 800 },
  options: { bypassCSP?: boolean; beforeGoto?: (page: Page) => Promise<void> } = {},
) {
  const { beforeGoto, ...contextOptions } = options;
  const context = await browser.newContext({ viewport, ...contextOptions });
  onTestFinished(() => context.close());
  const page = await context.newPage();
  await beforeGoto?.(page);
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

/** The operation a GraphQL POST body names (the board sends hashes, not texts). */
const operationOf = (body: string) => (JSON.parse(body) as { operationName?: unknown }).operationName;
const boardUrl = (graphqlUrl: string, ids: string[]) =>
  `${graphqlUrl.replace(/\/graphql$/, '/')}?entity=${ENTITY}&ids=${ids.join(',')}`;
const status = (page: Page, id: string) => page.getByTestId(`row-${id}`).getAttribute('data-status');
const banner = (page: Page) => page.getByTestId('connection-banner').getAttribute('data-state');
const rowError = (page: Page, id: string) => page.getByTestId(`row-${id}`).getByTestId('row-error');

/**
 * A gateway against a simulator of its own, so a test can stop the gateway and start
 * another on the same port (`env`, `PORT`) while the simulator and its activity live on.
 */
async function restartableStack() {
  const simulator = createSimulator({ stepMs: 0 });
  const upstream = await simulator.start();
  onTestFinished(() => simulator.stop());
  const env = { ...BOARD_ENV, CLEARTAX_BASE_URL: upstream, CLEARTAX_AUTH_TOKEN: 'server-token' };
  const first = await startStack(env);
  const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 5, isAuto: false });
  return { simulator, env, first, a };
}

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
    expect(graphqlPosts.filter((body) => operationOf(body) === 'UploadActivities')).toHaveLength(1);
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
    const { simulator, env, first, a } = await restartableStack();
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

  it('goes live over HTTP streaming where WebSockets cannot connect, rows moving, and back to the WebSocket once it connects', async () => {
    const { app, simulator } = await startStack(BOARD_ENV);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'INIT', isAuto: false });
    // A proxy that drops WebSockets: each socket the page opens to /graphql is closed before any message.
    let isBlocked = true;
    const { page, problems, graphqlPosts } = await openPage(boardUrl(app.url, [a.activityId]), undefined, {
      beforeGoto: async (page) => {
        await page.clock.install();
        await page.routeWebSocket(/\/graphql$/, (ws) => {
          if (isBlocked) void ws.close();
          else ws.connectToServer();
        });
      },
    });
    const pill = () => page.getByTestId('connection-banner').textContent();
    await expect.poll(() => status(page, a.activityId), { timeout: 15_000 }).toBe('INIT');
    await expect.poll(pill, { timeout: 10_000 }).toBe('Live (HTTP streaming)');
    expect(await page.getByTestId('connection-banner').getAttribute('data-transport')).toBe('http');
    for (const next of ['UPLOADED', 'PROCESSING'] as const) {
      simulator.setState(ENTITY, a.activityId, { status: next, queuedCount: 0 });
      await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe(next);
    }
    expect(graphqlPosts.filter((body) => operationOf(body) === 'UploadActivitiesStatusChanged').length).toBeGreaterThan(
      0,
    );

    // WebSockets pass again: the board's next try (every 30 s on HTTP) takes the subscription back to the socket.
    isBlocked = false;
    await page.clock.fastForward(31_000);
    await expect.poll(pill, { timeout: 10_000 }).toBe('Live (WebSocket)');
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSED', queuedCount: 0 });
    await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe('PROCESSED');
    await expect.poll(() => banner(page)).toBe('idle');
    expect(problems).toEqual([]);
  });

  it('on HTTP streaming, says when the gateway goes away and streams again once it is back, re-reading the row', async () => {
    const { simulator, env, first, a } = await restartableStack();
    const { page } = await openPage(boardUrl(first.app.url, [a.activityId]), undefined, {
      beforeGoto: (page) => page.routeWebSocket(/\/graphql$/, (ws) => void ws.close()),
    });
    const pill = () => page.getByTestId('connection-banner').textContent();
    await expect.poll(() => status(page, a.activityId), { timeout: 15_000 }).toBe('QUEUED');
    await expect.poll(pill, { timeout: 10_000 }).toBe('Live (HTTP streaming)');

    // The drain ends the stream normally; the rows still move, so the board subscribes again, and cannot.
    await first.app.stop();
    await expect.poll(() => banner(page), { timeout: 10_000 }).toBe('disconnected');
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSING', queuedCount: 0 });
    await startStack({ ...env, PORT: new URL(first.app.url).port });
    await expect.poll(pill, { timeout: 20_000 }).toBe('Live again: reconnected (HTTP streaming)');
    await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe('PROCESSING');
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSED', queuedCount: 0 });
    await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe('PROCESSED');
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

describe('the board sends hashes only, under TRUSTED_DOCUMENTS, in Chromium', () => {
  const OWN_MANIFEST = new URL('../../schema/generated/persisted-documents.json', import.meta.url).pathname;
  const ownHashes = Object.keys(JSON.parse(readFileSync(OWN_MANIFEST, 'utf8')) as Record<string, string>).map((hash) =>
    hash.replace(/^sha256:/, ''),
  );

  /** A gateway whose TRUSTED_DOCUMENTS is a copy of the project's own manifest: only the board's documents run. */
  async function trustedStack() {
    const dir = mkdtempSync(join(tmpdir(), 'board-trusted-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const manifest = join(dir, 'trusted-documents.json');
    copyFileSync(OWN_MANIFEST, manifest);
    const stack = await startStack({ ...BOARD_ENV, TRUSTED_DOCUMENTS: manifest });
    // It is enforced: a text not in the manifest does not run.
    const refused = await stack.raw({ query: '{ __typename }' });
    expect(refused.json.errors?.[0]?.extensions?.code).toBe('OPERATION_NOT_TRUSTED');
    return stack;
  }

  /** Everything the page sends to /graphql: HTTP POST bodies (with their Accept) and the WebSocket messages. */
  function recordWire(page: Page) {
    const posts: { body: Record<string, unknown>; accept: string }[] = [];
    const frames: Record<string, unknown>[] = [];
    page.on('request', (request) => {
      if (request.method() !== 'POST' || !request.url().endsWith('/graphql')) return;
      posts.push({
        body: JSON.parse(request.postData() ?? '{}') as Record<string, unknown>,
        accept: request.headers().accept ?? '',
      });
    });
    page.on('websocket', (ws) => {
      ws.on('framesent', ({ payload }) => frames.push(JSON.parse(String(payload)) as Record<string, unknown>));
    });
    return { posts, frames };
  }

  /** A request payload that names a document by one of the project's hashes, and carries no text. */
  function expectHashOnly(payload: Record<string, unknown>, query: 'absent' | 'empty') {
    if (query === 'absent') expect(payload).not.toHaveProperty('query');
    else expect(payload.query).toBe('');
    const persisted = (payload.extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } })
      .persistedQuery;
    expect(persisted?.version).toBe(1);
    expect(ownHashes).toContain(persisted?.sha256Hash);
  }

  it('loads the rows and moves them live over the WebSocket, no request or subscribe message holding a query text', async () => {
    const { app, simulator } = await trustedStack();
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'INIT', isAuto: false });
    let wire!: ReturnType<typeof recordWire>;
    const { page, problems } = await openPage(boardUrl(app.url, [a.activityId, MISSING]), undefined, {
      beforeGoto: async (page) => void (wire = recordWire(page)),
    });
    await expect.poll(() => status(page, a.activityId), { timeout: 15_000 }).toBe('INIT');
    await expect.poll(() => rowError(page, MISSING).textContent()).toContain('Not found');
    await expect.poll(() => banner(page), { timeout: 10_000 }).toBe('connected');
    expect(await page.getByTestId('connection-banner').getAttribute('data-transport')).toBe('websocket');
    for (const next of ['UPLOADED', 'PROCESSING', 'PROCESSED'] as const) {
      simulator.setState(ENTITY, a.activityId, { status: next, queuedCount: 0 });
      await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe(next);
    }
    await expect.poll(() => banner(page)).toBe('idle');

    expect(wire.posts.map(({ body }) => body.operationName)).toContain('UploadActivities');
    for (const { body } of wire.posts) expectHashOnly(body, 'absent');
    const subscribes = wire.frames.filter((frame) => frame.type === 'subscribe');
    expect(subscribes.length).toBeGreaterThan(0);
    for (const frame of subscribes) expectHashOnly(frame.payload as Record<string, unknown>, 'empty');
    expect(problems).toEqual([]);
  });

  it('with WebSockets blocked, its multipart subscription request carries the hash only, and the row moves', async () => {
    const { app, simulator } = await trustedStack();
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'INIT', isAuto: false });
    let wire!: ReturnType<typeof recordWire>;
    const { page, problems } = await openPage(boardUrl(app.url, [a.activityId]), undefined, {
      beforeGoto: async (page) => {
        wire = recordWire(page);
        await page.routeWebSocket(/\/graphql$/, (ws) => void ws.close());
      },
    });
    const pill = () => page.getByTestId('connection-banner').textContent();
    await expect.poll(() => status(page, a.activityId), { timeout: 15_000 }).toBe('INIT');
    await expect.poll(pill, { timeout: 10_000 }).toBe('Live (HTTP streaming)');
    for (const next of ['UPLOADED', 'PROCESSED'] as const) {
      simulator.setState(ENTITY, a.activityId, { status: next, queuedCount: 0 });
      await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe(next);
    }

    const streams = wire.posts.filter(({ body }) => body.operationName === 'UploadActivitiesStatusChanged');
    expect(streams.length).toBeGreaterThan(0);
    for (const { accept } of streams) expect(accept).toMatch(/multipart\/mixed/);
    for (const { body } of wire.posts) expectHashOnly(body, 'absent');
    expect(wire.frames.filter((frame) => frame.type === 'subscribe')).toEqual([]);
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
    expect(await page.getByTestId('connection-banner').textContent()).toBe('Live (WebSocket)');
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
      if (operationOf(route.request().postData() ?? '{}') !== 'UploadActivities') return route.fallback();
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
    expect(await page.getByTestId('connection-banner').textContent()).toBe('Live (WebSocket)');

    simulator.addFault({ status: 503, times: Infinity });
    await expect.poll(() => banner(page), { timeout: 10_000 }).toBe('upstream-down');
    expect(await page.getByTestId('connection-banner').textContent()).toBe(
      'Upstream unreachable: showing the last known state',
    );
    expect(await page.getByTestId(`row-${a.activityId}`).locator('.stale').count()).toBe(1);
    expect(await status(page, a.activityId)).toBe('QUEUED');

    simulator.clearFaults();
    await expect.poll(() => banner(page), { timeout: 10_000 }).toBe('connected');
    expect(await page.getByTestId('connection-banner').textContent()).toBe('Live (WebSocket)');
    expect(await page.getByTestId(`row-${a.activityId}`).locator('.stale').count()).toBe(0);
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSING', queuedCount: 0 });
    await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe('PROCESSING');
    expect(problems).toEqual([]);
  });
});

/** The rows in the order shown: their activity ids. */
const shownIds = (page: Page) =>
  page
    .locator('li.row')
    .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-testid')!.replace(/^row-/, '')));
const row = (page: Page, id: string) => page.getByTestId(`row-${id}`);

describe('the board as an operations tool in Chromium', () => {
  /** One row per group: moving (QUEUED), processed, aborted, and an id ClearTax does not know. */
  async function mixedBoard(options: { bypassCSP?: boolean } = {}) {
    const stack = await startStack(BOARD_ENV);
    const { simulator } = stack;
    const processed = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED', isAuto: false });
    const aborted = simulator.createActivity({
      taxableEntityId: ENTITY,
      status: 'ABORTED',
      errorMessage: 'Row 7: invalid HSN code',
      isAuto: false,
    });
    const moving = simulator.createActivity({
      taxableEntityId: ENTITY,
      status: 'QUEUED',
      queuedCount: 2,
      isAuto: false,
    });
    const ids = [processed.activityId, aborted.activityId, moving.activityId, MISSING];
    const opened = await openPage(boardUrl(stack.app.url, ids), undefined, options);
    await expect.poll(() => status(opened.page, aborted.activityId), { timeout: 15_000 }).toBe('ABORTED');
    await expect.poll(() => status(opened.page, MISSING)).toBe('ERROR');
    await expect.poll(() => status(opened.page, moving.activityId)).toBe('QUEUED');
    return { ...stack, ...opened, processed, aborted, moving, ids };
  }

  it('counts every row per group, and the "Still moving" filter shows the moving rows only, from a shareable URL', async () => {
    const { page, problems, moving, ids } = await mixedBoard();
    expect(await page.getByTestId('summary').textContent()).toBe('1 moving · 1 processed · 1 aborted · 1 not readable');
    expect(await shownIds(page)).toHaveLength(4);

    await page.getByRole('button', { name: /^Still moving/ }).click();
    await expect.poll(() => shownIds(page)).toEqual([moving.activityId]);
    expect(await page.getByRole('button', { name: /^Still moving/ }).getAttribute('aria-pressed')).toBe('true');
    // The totals stay over every watched row.
    expect(await page.getByTestId('summary').textContent()).toBe('1 moving · 1 processed · 1 aborted · 1 not readable');
    expect(new URL(page.url()).searchParams.get('show')).toBe('moving');
    expect(new URL(page.url()).searchParams.get('ids')).toBe(ids.join(','));

    // The filtered view is the URL: a reload (or a colleague opening it) shows the same.
    await page.reload();
    await expect.poll(() => status(page, moving.activityId), { timeout: 15_000 }).toBe('QUEUED');
    expect(await shownIds(page)).toEqual([moving.activityId]);
    await page.getByRole('button', { name: /^All/ }).click();
    await expect.poll(() => shownIds(page)).toHaveLength(4);
    expect(new URL(page.url()).searchParams.has('show')).toBe(false);
    expect(problems).toEqual([]);
  });

  it('shows an ABORTED row and an unreadable id under the "Failed" filter, and nothing else', async () => {
    const { page, problems, aborted, processed } = await mixedBoard();
    await page.getByRole('button', { name: /^Failed/ }).click();
    await expect.poll(async () => new Set(await shownIds(page))).toEqual(new Set([aborted.activityId, MISSING]));
    expect(await row(page, aborted.activityId).getByTestId('error-message').textContent()).toBe(
      'Row 7: invalid HSN code',
    );
    expect(await row(page, MISSING).getByTestId('row-error').textContent()).toContain('Not found');
    await page.getByRole('button', { name: /^Finished/ }).click();
    await expect.poll(() => shownIds(page)).toEqual([processed.activityId]);
    expect(problems).toEqual([]);
  });

  it('copies an activity id to the clipboard', async () => {
    const { page, problems, moving } = await mixedBoard();
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await row(page, moving.activityId).getByRole('button', { name: 'Copy activity id' }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(moving.activityId);
    expect(await row(page, moving.activityId).getByRole('status').textContent()).toBe('Activity id copied');
    expect(problems).toEqual([]);
  });

  it('stops watching a row, which stays removed after a reload; a cleared view watches nothing and says Idle', async () => {
    const { page, problems, processed, moving, ids } = await mixedBoard();
    await page.getByRole('button', { name: `Stop watching ${processed.activityId}` }).click();
    await expect.poll(() => row(page, processed.activityId).count()).toBe(0);
    expect(new URL(page.url()).searchParams.get('ids')).toBe(ids.filter((id) => id !== processed.activityId).join(','));
    expect(await page.getByTestId('summary').textContent()).toBe('1 moving · 0 processed · 1 aborted · 1 not readable');

    await page.reload();
    await expect.poll(() => status(page, moving.activityId), { timeout: 15_000 }).toBe('QUEUED');
    expect(await row(page, processed.activityId).count()).toBe(0);
    expect(await shownIds(page)).toHaveLength(3);

    await page.getByRole('button', { name: 'Clear the view' }).click();
    await expect.poll(() => page.locator('li.row').count()).toBe(0);
    await expect.poll(() => banner(page)).toBe('idle');
    expect(await page.getByTestId('connection-banner').textContent()).toBe('Idle');
    await page.reload();
    await expect.poll(() => page.getByTestId('nothing-watched').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator('li.row').count()).toBe(0);
    expect(await page.getByTestId('connection-banner').textContent()).toBe('Idle');
    expect(problems).toEqual([]);
  });

  it('keeps a removed demo row removed after a reload, and adding one id to the demo puts only that id in the URL', async () => {
    const { app, simulator } = await startStack({ ...BOARD_ENV, AUTH_MODE: '' }, { shouldSeed: true });
    const demo = simulator.demoActivities().map((a) => a.activityId);
    const { page, problems } = await openPage(app.url.replace(/\/graphql$/, '/'));
    await expect.poll(() => page.locator('li.row').count(), { timeout: 15_000 }).toBe(demo.length);
    const [gone, ...kept] = demo;
    await page.getByRole('button', { name: `Stop watching ${gone}` }).click();
    await expect.poll(() => row(page, gone!).count()).toBe(0);
    await page.reload();
    await expect.poll(() => page.locator('li.row').count(), { timeout: 15_000 }).toBe(kept.length);
    expect(await row(page, gone!).count()).toBe(0);

    const added = simulator.createActivity({ status: 'UPLOADED', isAuto: false });
    await page.getByLabel('Activity ids').fill(`please check ${added.activityId} today`);
    await page.getByRole('button', { name: /^Watch/ }).click();
    await expect.poll(() => status(page, added.activityId), { timeout: 10_000 }).toBe('UPLOADED');
    const params = new URL(page.url()).searchParams;
    expect(params.get('ids')).toBe(added.activityId);
    expect(params.get('demo')).toBe('1');
    expect(await page.locator('li.row').count()).toBe(kept.length + 1);
    expect(problems).toEqual([]);
  });

  it('says why Watch cannot be pressed, and what is wrong with a bad entity id or an id that is not a UUID, next to the field', async () => {
    const { app } = await startStack(BOARD_ENV);
    const { page, problems } = await openPage(app.url.replace(/\/graphql$/, '/'));
    const watch = page.getByRole('button', { name: /^Watch/ });
    await expect.poll(() => page.getByTestId('nothing-watched').count(), { timeout: 15_000 }).toBe(1);
    await expect
      .poll(() => page.getByTestId('watch-why').textContent(), { timeout: 15_000 })
      .toBe('Enter the taxable entity id first');
    expect(await watch.isDisabled()).toBe(true);
    expect(await banner(page)).toBe('idle');
    expect(await page.getByTestId('connection-banner').textContent()).toBe('Idle');

    await page.getByLabel('Taxable entity id').fill('11111111-2222-4333-8444');
    expect(await page.getByTestId('entity-error').textContent()).toBe(
      'Not a UUID: expected 8-4-4-4-12 hex digits, got "11111111-2222-4333-8444"',
    );
    expect(await page.getByLabel('Taxable entity id').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('watch-why').textContent()).toBe('The taxable entity id is not a UUID');

    await page.getByLabel('Taxable entity id').fill(ENTITY);
    expect(await page.getByTestId('entity-error').count()).toBe(0);
    expect(await page.getByTestId('watch-why').textContent()).toBe('Paste at least one activity id');
    await page.getByLabel('Activity ids').fill('8ec86d0a-f3e1-46d5-87d3-bcaa91a0a07');
    expect(await page.getByTestId('ids-error').textContent()).toBe('Not a UUID: "8ec86d0a-f3e1-46d5-87d3-bcaa91a0a07"');
    expect(await page.getByTestId('watch-why').textContent()).toBe('None of the pasted ids is a UUID');
    expect(await watch.getAttribute('aria-describedby')).toBe(await page.getByTestId('watch-why').getAttribute('id'));
    await page.getByLabel('Activity ids').fill(MISSING);
    expect(await watch.isDisabled()).toBe(false);
    expect(await page.getByTestId('watch-why').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('grows a row’s timeline as its states arrive, each with its clock time, and announces each change politely', async () => {
    const { app, simulator } = await startStack(BOARD_ENV);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'INIT', isAuto: false });
    const { page, problems } = await openPage(boardUrl(app.url, [a.activityId]));
    await expect.poll(() => status(page, a.activityId), { timeout: 15_000 }).toBe('INIT');
    await expect.poll(() => banner(page), { timeout: 10_000 }).toBe('connected');
    // Already INIT when the board opened: its last change is when the board first saw it.
    const changedAt = row(page, a.activityId).getByTestId('changed-at');
    expect(await changedAt.textContent()).toMatch(/^\d\d:\d\d:\d\d$/);
    expect(await changedAt.getAttribute('title')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC[+-]\d\d:\d\d$/);
    expect(await row(page, a.activityId).getByTestId('timeline').count()).toBe(0);

    const steps = ['UPLOADED', 'QUEUED', 'PROCESSING'] as const;
    for (const [index, next] of steps.entries()) {
      simulator.setState(ENTITY, a.activityId, { status: next, queuedCount: next === 'QUEUED' ? 1 : 0 });
      await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe(next);
      await expect
        .poll(() => row(page, a.activityId).getByTestId('timeline').locator('li').allTextContents())
        .toHaveLength(index + 2);
      await expect
        .poll(() => page.getByTestId('announcer').textContent())
        .toBe(`Activity ${a.activityId.slice(0, 8)} is now ${next}`);
    }
    const entries = await row(page, a.activityId).getByTestId('timeline').locator('li').allTextContents();
    expect(entries.map((entry) => entry.replace(/ \d\d:\d\d:\d\d$/, ''))).toEqual(['INIT', ...steps]);
    for (const entry of entries) expect(entry).toMatch(/ \d\d:\d\d:\d\d$/);
    expect(await row(page, a.activityId).getByTestId('since').textContent()).toMatch(
      /^changed \d\d:\d\d:\d\d · PROCESSING for \d+ s$/,
    );
    // The live region is the announcer alone: the list itself is not read again.
    expect(await page.locator('ul.rows[aria-live], ul.rows [aria-live]').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('reads every row again when the live transport comes back, so a change made meanwhile shows', async () => {
    const { simulator, env, first, a } = await restartableStack();
    const { page, graphqlPosts } = await openPage(boardUrl(first.app.url, [a.activityId]));
    await expect.poll(() => status(page, a.activityId), { timeout: 15_000 }).toBe('QUEUED');
    await expect.poll(() => banner(page), { timeout: 10_000 }).toBe('connected');
    await first.app.stop();
    await expect.poll(() => banner(page), { timeout: 10_000 }).toBe('disconnected');
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSING', queuedCount: 0 });
    await startStack({ ...env, PORT: new URL(first.app.url).port });
    await expect.poll(() => banner(page), { timeout: 20_000 }).toBe('connected');
    await expect.poll(() => status(page, a.activityId), { timeout: 10_000 }).toBe('PROCESSING');
    expect(graphqlPosts.filter((body) => operationOf(body) === 'UploadActivities')).toHaveLength(2);
  });

  it('puts the moving rows on top of a phone-width screen, each with the clock time of its last change', async () => {
    const { app, simulator } = await startStack(BOARD_ENV);
    const finished = [
      simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED', isAuto: false }),
      simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED', isAuto: false }),
      simulator.createActivity({
        taxableEntityId: ENTITY,
        status: 'ABORTED',
        errorMessage: 'Invalid GSTIN in row 3: 27AAAAA0000A1Z5 is not registered',
        isAuto: false,
      }),
    ];
    const moving = [
      simulator.createActivity({ taxableEntityId: ENTITY, status: 'UPLOADED', isAuto: false }),
      simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 4, isAuto: false }),
    ];
    // Listed first, as a bulk upload day's oldest uploads are.
    const ids = [...finished, ...moving].map((a) => a.activityId);
    const { page, problems } = await openPage(boardUrl(app.url, ids), { width: 375, height: 740 });
    await expect.poll(() => status(page, moving[1]!.activityId), { timeout: 15_000 }).toBe('QUEUED');
    await expect.poll(() => status(page, finished[2]!.activityId)).toBe('ABORTED');
    simulator.setState(ENTITY, moving[0]!.activityId, { status: 'PROCESSING' });
    await expect.poll(() => status(page, moving[0]!.activityId), { timeout: 10_000 }).toBe('PROCESSING');

    // The most recently changed moving row leads, then the other moving one, then the failed one.
    await expect
      .poll(() => shownIds(page))
      .toEqual([
        moving[0]!.activityId,
        moving[1]!.activityId,
        finished[2]!.activityId,
        expect.any(String),
        expect.any(String),
      ]);
    await page.screenshot({ path: `${SCREENSHOTS}board-phone-moving-first.png`, animations: 'disabled' });
    for (const { activityId } of moving) {
      const box = (await row(page, activityId).boundingBox())!;
      expect(box.y + box.height).toBeLessThanOrEqual(740);
      expect(await row(page, activityId).getByTestId('changed-at').textContent()).toMatch(/^\d\d:\d\d:\d\d$/);
    }
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    expect(problems).toEqual([]);
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`has no serious or critical accessibility violations (axe-core, ${colorScheme} colours)`, async () => {
      // The board's Content-Security-Policy allows no inline script, which is how axe is injected.
      const { page } = await mixedBoard({ bypassCSP: true });
      await page.emulateMedia({ colorScheme });
      // A timeline and a filter pressed: every kind of control and text on screen.
      await page.getByRole('button', { name: /^Failed/ }).click();
      await page.getByRole('button', { name: /^All/ }).click();
      await page.getByLabel('Activity ids').fill('not-a-uuid-12345678-1');
      await page.addScriptTag({ path: AXE });
      const violations = await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run: (context: Document) => Promise<AxeResults> } }).axe;
        const results = await axe.run(document);
        return results.violations
          .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
          .map((violation) => ({
            id: violation.id,
            impact: violation.impact,
            nodes: violation.nodes.map((node) => node.target.join(' ')),
          }));
      });
      expect(violations).toEqual([]);
    });
  }

  it('works from the keyboard alone: filter, copy and stop watching', async () => {
    const { page, problems, moving, processed } = await mixedBoard();
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    /** Tabs until the focused element matches, at most 60 times. */
    const tabTo = async (name: string) => {
      for (let i = 0; i < 60; i += 1) {
        await page.keyboard.press('Tab');
        const focused = await page.evaluate(
          () => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent ?? '',
        );
        if (focused.startsWith(name)) return;
      }
      throw new Error(`no control named ${name} reached by Tab`);
    };
    await tabTo('Still moving');
    await page.keyboard.press('Enter');
    await expect.poll(() => shownIds(page)).toEqual([moving.activityId]);
    await tabTo('Copy activity id');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(moving.activityId);
    await page.keyboard.press('Shift+Tab');
    await tabTo('All');
    await page.keyboard.press('Space');
    await expect.poll(() => shownIds(page)).toHaveLength(4);
    await tabTo(`Stop watching ${processed.activityId}`);
    const after = (await shownIds(page)).filter((id, i, ids) => ids[i - 1] === processed.activityId)[0];
    await page.keyboard.press('Enter');
    await expect.poll(() => row(page, processed.activityId).count()).toBe(0);
    // The focus stays in the list: on the next row's "Stop watching", not lost to the page.
    const focusedLabel = () => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? '');
    await expect.poll(focusedLabel).toMatch(after ? `Stop watching ${after}` : /^Stop watching /);
    expect(problems).toEqual([]);
  });
});

interface AxeResults {
  violations: { id: string; impact?: string | null; nodes: { target: string[] }[] }[];
}
const AXE = new URL('../../node_modules/axe-core/axe.min.js', import.meta.url).pathname;

describe("the board's picture in the README", () => {
  it('shows a run of the demo with the moving rows first, each with its last change and timeline (docs/board.png)', async () => {
    const { app, simulator } = await startStack(
      { ...BOARD_ENV, AUTH_MODE: '' },
      { shouldSeed: true, stepMs: 0, demoEverySteps: 1 },
    );
    simulator.step();
    simulator.step();
    const { page, problems } = await openPage(app.url.replace(/\/graphql$/, '/'));
    await expect
      .poll(() => page.locator('li.row').count(), { timeout: 15_000 })
      .toBe(simulator.demoActivities().length);
    await expect.poll(() => banner(page), { timeout: 10_000 }).toBe('connected');
    // Two more steps while the board watches: the moving rows' timelines grow.
    for (let i = 0; i < 2; i += 1) {
      const before = await page.getByTestId('timeline').locator('li').count();
      simulator.step();
      await expect
        .poll(() => page.getByTestId('timeline').locator('li').count(), { timeout: 10_000 })
        .toBeGreaterThan(before);
    }
    const groups = await page
      .locator('li.row')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-group')));
    expect(groups[0]).toBe('moving');
    expect(groups.join()).toMatch(/^(moving,)+(failed,)+(finished,?)+$/);
    await page.screenshot({ path: `${SCREENSHOTS}board-readme.png`, animations: 'disabled' });
    expect(problems).toEqual([]);
  });
});
