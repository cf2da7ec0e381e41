import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { UploadActivityDocument, UploadActivityStatusChangedDocument } from '../../schema/generated/graphql.js';
import { endlessBody, startFakeUpstream } from '../helpers/fake-upstream.js';
import { ENTITY, TOKEN, startStack } from '../helpers/stack.js';
import { connect, record } from '../helpers/ws-client.js';

const ACTIVITY = '22222222-3333-4444-8555-666666666666';
const FAST = { POLL_INTERVAL_MS: '10', POLL_MAX_INTERVAL_MS: '40' };

describe('a faulty or hostile upstream', () => {
  it('never follows a redirect to another host, and caches nothing from it', async () => {
    const elsewhere = await startFakeUpstream((_req, res) =>
      res.writeHead(200).end(JSON.stringify({ status: 'PROCESSED' })),
    );
    const redirecting = await startFakeUpstream((_req, res) =>
      res.writeHead(302, { location: `${elsewhere.url}/v0.2/x` }).end(),
    );
    const { query } = await startStack({ CLEARTAX_BASE_URL: redirecting.url });
    for (let i = 0; i < 2; i++) {
      const result = await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: ACTIVITY });
      expect(result.errors![0]!.extensions).toMatchObject({
        code: 'UPSTREAM_BAD_RESPONSE',
        upstream: { httpStatus: 302 },
      });
    }
    expect(elsewhere.requests).toHaveLength(0);
    expect(redirecting.requests).toHaveLength(2); // not cached: asked again
  });

  it('answers an endless upstream body with UPSTREAM_BAD_RESPONSE', async () => {
    const endless = await startFakeUpstream(endlessBody);
    const { query } = await startStack({ CLEARTAX_BASE_URL: endless.url });
    const result = await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: ACTIVITY });
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE' });
    expect(result.errors![0]!.message).toContain('over 65536 bytes');
  });

  it('keeps a huge upstream error message out of the response', async () => {
    const { simulator, raw } = await startStack();
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    simulator.addFault({
      status: 404,
      body: JSON.stringify({ errors: { err_1: { code: '404', message: 'x'.repeat(60_000) } } }),
    });
    const response = await raw(
      { query: `{ uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${a.activityId}") { status } }` },
      { 'X-Cleartax-Auth-Token': TOKEN },
    );
    expect(response.json.errors![0]!.extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect(JSON.stringify(response.json).length).toBeLessThan(2_000);
  });

  it('bounds the terminal cache by bytes: 40 ABORTED answers with 60 KB messages do not all stay', async () => {
    const budget = 1024 * 1024;
    const { simulator, query } = await startStack({ TERMINAL_CACHE_MAX_BYTES: String(budget) });
    const message = 'm'.repeat(60_000);
    const ids = Array.from(
      { length: 40 },
      () =>
        simulator.createActivity({ taxableEntityId: ENTITY, status: 'ABORTED', errorMessage: message, isAuto: false })
          .activityId,
    );
    for (const id of ids)
      expect(
        (await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: id })).data!.uploadActivity!
          .errorMessage,
      ).toBe(message);
    // Counted from outside the cache (its own byte count is what it enforces, so it always looks in
    // bounds): ask for every id again, newest first. A cached one costs no upstream request, an
    // evicted one costs one; re-caching an evicted one only pushes out entries already counted.
    const wasEvicted: boolean[] = [];
    for (const id of [...ids].reverse()) {
      const requests = simulator.stats.requests;
      await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: id });
      wasEvicted.push(simulator.stats.requests > requests);
    }
    const kept = wasEvicted.includes(true) ? wasEvicted.indexOf(true) : wasEvicted.length;
    // The newest ones stayed, every older one went...
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(wasEvicted.slice(kept).every(Boolean)).toBe(true);
    // ...and what stayed fits the budget even at one byte per message character (40 would be 2.4 MB).
    expect(kept * message.length).toBeLessThanOrEqual(budget);
  });

  it('does not freeze a subscription on a huge Retry-After, and arms no overflowing timer', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const { app, simulator } = await startStack(FAST);
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 3, isAuto: false });
      const sub = record(connect(app.url), UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: a.activityId,
      });
      await expect.poll(() => sub.events.length).toBe(1);
      simulator.addFault({ status: 429, headers: { 'retry-after': '999999999' } });
      const before = simulator.stats.requests;
      await expect.poll(() => simulator.stats.requests).toBeGreaterThanOrEqual(before + 3);
      simulator.setState(ENTITY, a.activityId, { queuedCount: 2 });
      await expect.poll(() => sub.events.length).toBe(2);
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('a token that cannot be a header', () => {
  it('is UNAUTHENTICATED on HTTP, without any upstream attempt', async () => {
    const { simulator, app } = await startStack();
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    // The UTF-8 bytes of "€" as the header carries them (latin1): valid on the wire, not as a ClearTax token.
    const { request } = await import('node:http');
    const body = JSON.stringify({
      query: `{ uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${a.activityId}") { status } }`,
    });
    const json = await new Promise<{ errors: { extensions: { code: string }; message: string }[] }>(
      (resolve, reject) => {
        const req = request(
          app.url,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-cleartax-auth-token': 'tok\u00e2\u0082\u00ac' },
          },
          (res) => {
            let text = '';
            res.on('data', (chunk) => (text += String(chunk)));
            res.on('end', () => resolve(JSON.parse(text)));
          },
        );
        req.on('error', reject);
        req.end(body);
      },
    );
    expect(json.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
    expect(json.errors[0]!.message).toContain('cannot carry');
    expect(simulator.stats.requests).toBe(0);
  });

  it.each([
    ['a line break', 'line\nbreak'],
    ['a euro sign', 'euro€'],
  ])('refuses a WebSocket whose token has %s with 4403, never polling', async (_name, token) => {
    const { app, simulator } = await startStack(FAST);
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      const socket = new WebSocket(app.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      socket.on('open', () => {
        socket.send(JSON.stringify({ type: 'connection_init', payload: { authToken: token } }));
      });
      socket.on('close', (code, reason) => resolve({ code, reason: String(reason) }));
    });
    expect(await closed).toEqual({
      code: 4403,
      reason: 'Forbidden: The ClearTax token contains characters an HTTP header cannot carry',
    });
    expect(simulator.stats.requests).toBe(0);
    expect(app.watcher.size).toEqual({ keys: 0, subscriptions: 0 });
  });
});
