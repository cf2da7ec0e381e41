import { describe, expect, it } from 'vitest';
import { getIntrospectionQuery } from 'graphql';
import WebSocket from 'ws';
import { UploadActivityDocument, UploadActivityStatusChangedDocument } from '../../schema/generated/graphql.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { ENTITY, TOKEN, startStack } from '../helpers/stack.js';
import { connect, record } from '../helpers/ws-client.js';

const ACTIVITY = '22222222-3333-4444-8555-666666666666';

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
}

describe('edge errors', () => {
  it('answers malformed JSON with a JSON GraphQL error and 400: no HTML, stack or path, nothing logged above debug', async () => {
    const { app, logs } = await startStack({ LOG_LEVEL: 'debug' });
    const response = await post(app.url, '{"query": "{ __typename }", oops');
    expect(response.status).toBe(400);
    expect(response.type).toContain('application/json');
    expect(JSON.parse(response.text)).toEqual({
      errors: [{ message: 'The request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }],
    });
    expect(response.text).not.toMatch(/<html|\bat \w|\/src\/|node_modules/i);
    expect(logs.filter((line) => line.level >= 40)).toEqual([
      expect.objectContaining({ msg: expect.stringContaining('SIMULATED') }),
    ]);
    expect(logs).toContainEqual(expect.objectContaining({ level: 20, msg: 'bad request body', code: 'BAD_REQUEST' }));
    expect(JSON.stringify(logs)).not.toContain('oops');
  });

  it('answers a body over MAX_BODY_BYTES with 413 BAD_USER_INPUT', async () => {
    const { app } = await startStack({ MAX_BODY_BYTES: '2048' });
    const response = await post(app.url, JSON.stringify({ query: `{ __typename } # ${'x'.repeat(4096)}` }));
    expect(response.status).toBe(413);
    expect(JSON.parse(response.text)).toEqual({
      errors: [{ message: 'The request body is larger than 2048 bytes', extensions: { code: 'BAD_USER_INPUT' } }],
    });
  });

  it('logs an upstream outage as two state changes, not one line per failed poll', async () => {
    const stack = await startStack({ LOG_LEVEL: 'info', POLL_INTERVAL_MS: '5', POLL_MAX_INTERVAL_MS: '10' });
    const { app, simulator, logs } = stack;
    const ids = Array.from(
      { length: 5 },
      () =>
        simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 2, isAuto: false })
          .activityId,
    );
    const subs = ids.map((id) =>
      record(connect(app.url), UploadActivityStatusChangedDocument, { taxableEntityId: ENTITY, activityId: id }),
    );
    await expect.poll(() => subs.every((s) => s.events.length === 1)).toBe(true);
    simulator.addFault({ status: 503, times: Infinity });
    const before = simulator.stats.requests;
    await expect.poll(() => simulator.stats.requests - before, { timeout: 10_000 }).toBeGreaterThanOrEqual(50);
    simulator.clearFaults();
    await expect.poll(() => logs.some((line) => line.msg === 'upstream recovered')).toBe(true);
    const lines = logs.filter(
      (line) => line.level >= 30 && !String(line.msg).includes('SIMULATED') && line.msg !== 'gateway listening',
    );
    expect(lines.map((line) => line.msg)).toEqual(['upstream became unreachable', 'upstream recovered']);
    expect(lines[1]).toMatchObject({ failures: expect.any(Number), byResult: { '503': expect.any(Number) } });
  });
});

describe('WebSocket limits and visibility', () => {
  it('refuses upgrades past MAX_CONNECTIONS with 503, and shows open connections on /metrics', async () => {
    const { app } = await startStack({ MAX_CONNECTIONS: '3' });
    const wsUrl = app.url.replace(/^http/, 'ws');
    const open = await Promise.all(
      Array.from(
        { length: 3 },
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
            socket.once('open', () => resolve(socket));
            socket.once('error', reject);
          }),
      ),
    );
    const refused = await new Promise<number>((resolve) => {
      const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('error', () => undefined);
    });
    expect(refused).toBe(503);
    const metrics = await (await fetch(app.metricsUrl)).text();
    expect(metrics).toMatch(/^gateway_websocket_connections 3$/m);
    for (const socket of open) socket.close();
    await expect
      .poll(
        async () => (await (await fetch(app.metricsUrl)).text()).match(/^gateway_websocket_connections (\d+)$/m)?.[1],
      )
      .toBe('0');
  });
  // The message rate (WS_MAX_MESSAGES_PER_SECOND) is tested in ws-message-rate.test.ts.
});

describe('production defaults and traceability', () => {
  it('keeps the embedded simulator on loopback whatever HOST is, and warns that its data is simulated', async () => {
    const { simulator, logs } = await startStack({ HOST: '0.0.0.0', LOG_LEVEL: 'warn' });
    expect(simulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: 'CLEARTAX_BASE_URL is unset: serving SIMULATED data from the embedded simulator',
      }),
    );
  });

  it('turns introspection and Sandbox off with NODE_ENV=production, on both transports, unless enabled', async () => {
    const upstream = await startFakeUpstream((_req, res) => res.writeHead(200).end('{"status":"INIT"}'));
    const { app, raw } = await startStack({ NODE_ENV: 'production', CLEARTAX_BASE_URL: upstream.url });
    const http = await raw({ query: getIntrospectionQuery() });
    expect(http.json.errors![0]).toMatchObject({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    const overWs = await new Promise<unknown>((resolve) => {
      connect(app.url).subscribe(
        { query: '{ __schema { queryType { name } } }' },
        { next: () => undefined, error: resolve, complete: () => resolve('complete') },
      );
    });
    expect((overWs as { extensions: unknown }[]).map((error) => error.extensions)).toContainEqual({
      code: 'GRAPHQL_VALIDATION_FAILED',
    });
    expect(new Set((overWs as { extensions: { code: string } }[]).map((error) => error.extensions.code))).toEqual(
      new Set(['GRAPHQL_VALIDATION_FAILED']),
    );
    const page = await fetch(app.url, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('sandbox');

    const enabled = await startStack({
      NODE_ENV: 'production',
      CLEARTAX_BASE_URL: upstream.url,
      INTROSPECTION_ENABLED: 'true',
    });
    expect((await enabled.raw({ query: getIntrospectionQuery() })).json.errors).toBeUndefined();
  });

  it('serves /metrics on METRICS_PORT (loopback) instead of the main port', async () => {
    const { app } = await startStack({ METRICS_PORT: '0' });
    expect(app.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(await (await fetch(app.metricsUrl)).text()).toContain('gateway_upstream_attempts_total');
    expect((await fetch(app.url.replace(/\/graphql$/, '/metrics'))).status).toBe(404);
  });

  it("keeps a sane X-Request-Id (else makes one), echoes it, and puts it on the request's log lines", async () => {
    const { app, logs } = await startStack({ LOG_LEVEL: 'debug' });
    const body = JSON.stringify({
      query: `{ uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${ACTIVITY}") { status } }`,
    });
    const headers = { 'content-type': 'application/json', 'X-Cleartax-Auth-Token': TOKEN };
    const kept = await fetch(app.url, { method: 'POST', headers: { ...headers, 'X-Request-Id': 'req-42' }, body });
    expect(kept.headers.get('x-request-id')).toBe('req-42');
    await kept.text();
    expect(logs.filter((line) => line.requestId === 'req-42').map((line) => line.msg)).toContainEqual(
      expect.stringContaining('No activity found'),
    );
    const replaced = await fetch(app.url, {
      method: 'POST',
      headers: { ...headers, 'X-Request-Id': 'x'.repeat(200) },
      body,
    });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('forwards a W3C traceparent to upstream', async () => {
    const upstream = await startFakeUpstream((_req, res) => res.writeHead(200).end('{"status":"INIT"}'));
    const { query, raw } = await startStack({ CLEARTAX_BASE_URL: upstream.url });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await raw(
      { query: `{ uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${ACTIVITY}") { status } }` },
      { 'X-Cleartax-Auth-Token': TOKEN, traceparent },
    );
    expect(upstream.requests[0]!.headers.traceparent).toBe(traceparent);
    await query(UploadActivityDocument, {
      taxableEntityId: ENTITY,
      activityId: '33333333-3333-4444-8555-666666666666',
    });
    expect(upstream.requests[1]!.headers.traceparent).toBeUndefined();
  });
});
