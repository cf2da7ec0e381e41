import { once } from 'node:events';
import { connect as connectSocket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { UploadActivityDocument } from '../../schema/generated/graphql.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { ENTITY, TOKEN, startStack } from '../helpers/stack.js';

const MISSING = '99999999-9999-4999-8999-999999999999';
const HELD = '22222222-3333-4444-8555-666666666666';

describe('Query.uploadActivity over HTTP against the simulator', () => {
  it.each([
    ['INIT', null, 0],
    ['UPLOADED', null, 0],
    ['QUEUED', null, 7],
    ['PROCESSING', null, 0],
    ['PROCESSED', null, 0],
    ['ABORTED', 'Invalid GSTIN in row 3', 0],
  ] as const)('answers %s with every contract field', async (status, errorMessage, queuedCount) => {
    const { simulator, query } = await startStack();
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status, errorMessage, queuedCount, isAuto: false });
    const before = Date.now();
    const result = await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: a.activityId });
    expect(result.errors).toBeUndefined();
    const activity = result.data!.uploadActivity!;
    expect(activity).toMatchObject({
      id: `UploadActivity:${ENTITY}:${a.activityId}`,
      activityId: a.activityId,
      taxableEntityId: ENTITY,
      status,
      rawStatus: status,
      errorMessage,
      queuedCount,
      isTerminal: status === 'PROCESSED' || status === 'ABORTED',
    });
    expect(Date.parse(activity.fetchedAt)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('maps an undocumented status to UNKNOWN and keeps rawStatus', async () => {
    const { simulator, query } = await startStack();
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'VALIDATING', queuedCount: null });
    const result = await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: a.activityId });
    expect(result.data!.uploadActivity).toMatchObject({
      status: 'UNKNOWN',
      rawStatus: 'VALIDATING',
      isTerminal: false,
      queuedCount: null,
    });
  });

  it('follows the simulated lifecycle step by step', async () => {
    const { simulator, query } = await startStack();
    const a = simulator.createActivity({ taxableEntityId: ENTITY, queueLength: 2 });
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { data } = await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: a.activityId });
      seen.push(`${data!.uploadActivity!.status}:${data!.uploadActivity!.queuedCount}`);
      simulator.step();
    }
    expect(seen).toEqual(['INIT:0', 'UPLOADED:0', 'QUEUED:2', 'QUEUED:1', 'PROCESSING:0', 'PROCESSED:0']);
  });

  it('answers NOT_FOUND with the upstream error details', async () => {
    const { query } = await startStack();
    const result = await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: MISSING });
    expect(result.data!.uploadActivity).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]).toMatchObject({
      path: ['uploadActivity'],
      extensions: {
        code: 'NOT_FOUND',
        upstream: { httpStatus: 404, code: '404', message: `No activity found for id ${MISSING}` },
      },
    });
  });

  it('answers UNAUTHENTICATED without calling upstream when there is no token', async () => {
    const { simulator, query } = await startStack();
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    const result = await query(
      UploadActivityDocument,
      { taxableEntityId: ENTITY, activityId: a.activityId },
      { token: null },
    );
    expect(result.data!.uploadActivity).toBeNull();
    expect(result.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(simulator.stats.requests).toBe(0);
  });

  it("never lends the server's token in passthrough mode, and warns at start-up that it is ignored", async () => {
    const { simulator, query, logs } = await startStack({ CLEARTAX_AUTH_TOKEN: 'server-token', LOG_LEVEL: 'warn' });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'UPLOADED' });
    const result = await query(
      UploadActivityDocument,
      { taxableEntityId: ENTITY, activityId: a.activityId },
      { token: null },
    );
    expect(result.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(simulator.stats.requests).toBe(0);
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: expect.stringContaining('CLEARTAX_AUTH_TOKEN is ignored with AUTH_MODE=passthrough'),
      }),
    );
  });

  it('maps upstream 401 to UNAUTHENTICATED and 403 to FORBIDDEN, never echoing the token', async () => {
    const { simulator, query } = await startStack();
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    simulator.setTokenStatus('revoked', 401);
    simulator.setTokenStatus('other-tenant', 403);
    const revoked = await query(
      UploadActivityDocument,
      { taxableEntityId: ENTITY, activityId: a.activityId },
      { token: 'revoked' },
    );
    const other = await query(
      UploadActivityDocument,
      { taxableEntityId: ENTITY, activityId: a.activityId },
      { token: 'other-tenant' },
    );
    expect(revoked.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED', upstream: { httpStatus: 401 } });
    expect(other.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', upstream: { httpStatus: 403 } });
    expect(JSON.stringify([revoked, other])).not.toMatch(/revoked|other-tenant/);
  });

  it('maps persistent 5xx to UPSTREAM_UNAVAILABLE and bad bodies to UPSTREAM_BAD_RESPONSE', async () => {
    const { simulator, query } = await startStack({ UPSTREAM_RETRIES: '1' });
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    simulator.addFault({ status: 502, times: 2 });
    const down = await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: a.activityId });
    expect(down.errors![0]!.extensions!.code).toBe('UPSTREAM_UNAVAILABLE');
    simulator.addFault({ status: 200, body: 'not json' });
    const garbled = await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: a.activityId });
    expect(garbled.errors![0]!.extensions!.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(garbled.errors![0]!.message).not.toContain(simulator.url);
  });

  it('rejects a malformed UUID before anything reaches upstream', async () => {
    const { simulator, query, raw } = await startStack();
    const viaVariables = await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: 'not-a-uuid' });
    expect(viaVariables.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(viaVariables.errors![0]!.message).toContain('not-a-uuid');
    const inline = await raw(
      { query: `{ uploadActivity(taxableEntityId: "${ENTITY}", activityId: "abc") { status } }` },
      { 'X-Cleartax-Auth-Token': TOKEN },
    );
    expect(inline.json.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(simulator.stats.requests).toBe(0);
  });

  it('treats UUIDs case-insensitively: one upstream request for both spellings', async () => {
    const { simulator, raw } = await startStack();
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSING' });
    const upper = a.activityId.toUpperCase();
    const result = await raw(
      {
        query: `{ a: uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${a.activityId}") { id status }
                 b: uploadActivity(taxableEntityId: "${ENTITY.toUpperCase()}", activityId: "${upper}") { id status } }`,
      },
      { 'X-Cleartax-Auth-Token': TOKEN },
    );
    expect(result.json.data).toEqual({
      a: { id: `UploadActivity:${ENTITY}:${a.activityId}`, status: 'PROCESSING' },
      b: { id: `UploadActivity:${ENTITY}:${a.activityId}`, status: 'PROCESSING' },
    });
    expect(simulator.stats.requests).toBe(1);
  });
});

describe('HTTP transport', () => {
  it('serves GET /graphql with a preflight header and blocks it without (CSRF prevention)', async () => {
    const { app, simulator } = await startStack();
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 2 });
    const query = encodeURIComponent(
      `{ uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${a.activityId}") { status queuedCount } }`,
    );
    const ok = await fetch(`${app.url}?query=${query}`, {
      headers: { 'X-Cleartax-Auth-Token': TOKEN, 'apollo-require-preflight': 'true' },
    });
    expect(await ok.json()).toEqual({ data: { uploadActivity: { status: 'QUEUED', queuedCount: 2 } } });
    const blocked = await fetch(`${app.url}?query=${query}`, { headers: { 'X-Cleartax-Auth-Token': TOKEN } });
    expect(blocked.status).toBe(400);
  });

  it('serves the status board at / and its config, or nothing at / with WEB_APP_ENABLED=false', async () => {
    const { app } = await startStack({ AUTH_MODE: 'open' }, { shouldSeed: true });
    const root = app.url.replace(/\/graphql$/, '');
    const page = await fetch(`${root}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root"></div>');
    const config = (await (await fetch(`${root}/app-config.json`)).json()) as {
      authMode: string;
      demo: { activityIds: string[] };
    };
    expect(config.authMode).toBe('open');
    expect(config.demo.activityIds).toHaveLength(5);
    const off = await startStack({ WEB_APP_ENABLED: 'false' });
    expect((await fetch(off.app.url.replace(/\/graphql$/, '/'))).status).toBe(404);
  });

  it('shows Apollo Sandbox to a browser at /graphql', async () => {
    const { app } = await startStack();
    const page = await fetch(app.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('sandbox');
  });

  it('answers /healthz, /readyz (200 with upstream ok, and still 200 with upstream down) and /metrics', async () => {
    const { app, simulator } = await startStack();
    const root = app.url.replace(/\/graphql$/, '');
    expect(await (await fetch(`${root}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${root}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { upstream: 'ok', redis: 'off' } });
    const metrics = await (await fetch(`${root}/metrics`)).text();
    expect(metrics).toContain('gateway_upstream_attempts_total');
    expect(metrics).toContain('gateway_websocket_connections 0');
    // A shared upstream outage must not make a load balancer pull every instance.
    await simulator.stop();
    const upstreamDown = await fetch(`${root}/readyz`);
    expect(upstreamDown.status).toBe(200);
    expect(await upstreamDown.json()).toEqual({ status: 'ok', checks: { upstream: 'down', redis: 'off' } });
  });

  it('answers /readyz 503 while draining: asked over a connection that a request in flight keeps open, once new connections are refused', async () => {
    // Upstream holds every status read until the test releases it; its root (the readiness ping) answers at once.
    let release: (() => void) | undefined;
    const upstream = await startFakeUpstream((req, res) => {
      if (!req.url?.includes('/upload_activity/')) return void res.writeHead(200).end('{}');
      release = () =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ activityId: HELD, status: 'QUEUED', errorMessage: null, queuedCount: 2 }));
    });
    const { app } = await startStack({
      CLEARTAX_BASE_URL: upstream.url,
      SHUTDOWN_GRACE_MS: '15000',
      UPSTREAM_TIMEOUT_MS: '15000',
      REQUEST_DEADLINE_MS: '15000',
    });
    const port = Number(new URL(app.url).port);
    const root = app.url.replace(/\/graphql$/, '');
    const ready = await fetch(`${root}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { upstream: 'ok', redis: 'off' } });

    // One keep-alive connection, busy with a query whose read upstream holds: the drain must wait for it.
    const socket = connectSocket(port, '127.0.0.1');
    onTestFinished(() => void socket.destroy());
    await once(socket, 'connect');
    let received = '';
    socket.on('data', (chunk) => (received += String(chunk)));
    const ended = once(socket, 'close');
    const body = JSON.stringify({
      query: `{ uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${HELD}") { status queuedCount } }`,
    });
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nX-Cleartax-Auth-Token: ${TOKEN}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await expect.poll(() => release, { timeout: 5000 }).toBeDefined();

    const stopping = app.stop();
    // Draining: the listener is closed, so a new connection is refused.
    const isRefused = () =>
      new Promise<boolean>((resolve) => {
        const probe = connectSocket(port, '127.0.0.1');
        probe.once('connect', () => (probe.destroy(), resolve(false)));
        probe.once('error', () => resolve(true));
      });
    await expect.poll(isRefused, { timeout: 5000 }).toBe(true);

    // /readyz on the open connection, pipelined behind the held query: it is answered now, during
    // the drain (its upstream check reaches upstream), and written once the query's answer is out.
    const pings = () => upstream.requests.filter((r) => r.url === '/').length;
    const pingsBefore = pings();
    socket.write(`GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    await expect.poll(pings, { timeout: 5000 }).toBeGreaterThan(pingsBefore);
    release!();
    await ended; // the drain closes the connection once both are answered
    await stopping;
    expect([...received.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1])).toEqual(['200', '503']);
    expect(received).toContain('{"data":{"uploadActivity":{"status":"QUEUED","queuedCount":2}}}');
    expect(received).toContain('{"status":"unavailable","checks":{"upstream":"ok","redis":"off"}}');
  });
});
