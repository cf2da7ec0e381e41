import { describe, expect, it } from 'vitest';
import { createClearTaxClient, type ClearTaxClientOptions } from '../../src/upstream/cleartax-client.js';
import { parseRetryAfter } from '../../src/upstream/cleartax-wire.js';
import { UpstreamError } from '../../src/upstream/upstream-error.js';
import { createSimulator } from '../../src/simulator/server.js';
import { createLogger } from '../../src/logger.js';
import { endlessBody, startFakeUpstream } from '../helpers/fake-upstream.js';
import { onTestFinished, vi } from 'vitest';

const ENTITY = '11111111-2222-4333-8444-555555555555';
const TOKEN = 'secret-token-xyz';

async function setup(options: Partial<ClearTaxClientOptions> = {}) {
  const simulator = createSimulator({ stepMs: 0 });
  const url = await simulator.start();
  onTestFinished(() => simulator.stop());
  const client = createClearTaxClient({
    baseUrl: url + '/',
    timeoutMs: 500,
    retries: 2,
    retryBaseMs: 1,
    maxRetryAfterMs: 2000,
    maxBodyBytes: 65_536,
    logger: createLogger('silent'),
    ...options,
  });
  return { simulator, client };
}

/** Lets real I/O run (setImmediate is not faked) until `condition` holds; bounded. */
async function until(condition: () => boolean, turns = 100_000): Promise<void> {
  for (let i = 0; i < turns && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(condition()).toBe(true);
}

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe('ClearTaxClient against a real HTTP upstream', () => {
  it('reads a 200 into a snapshot', async () => {
    const { simulator, client } = await setup();
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 4 });
    const snapshot = await client.getStatus(TOKEN, { taxableEntityId: ENTITY, activityId: a.activityId });
    expect(snapshot).toMatchObject({
      taxableEntityId: ENTITY,
      activityId: a.activityId,
      rawStatus: 'QUEUED',
      errorMessage: null,
      queuedCount: 4,
    });
    expect(Date.parse(snapshot.fetchedAt)).toBeGreaterThan(Date.now() - 5000);
  });

  it('sends the token header and encodes path segments', async () => {
    const fake = await startFakeUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"INIT"}');
    });
    const client = createClearTaxClient({
      baseUrl: fake.url + '/api/',
      timeoutMs: 500,
      retries: 0,
      retryBaseMs: 1,
      maxRetryAfterMs: 0,
      maxBodyBytes: 65_536,
      logger: createLogger('silent'),
    });
    await client.getStatus(TOKEN, { taxableEntityId: 'a/b?c', activityId: '../x y' });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.method).toBe('GET');
    expect(fake.requests[0]!.url).toBe('/api/v0.2/taxable_entities/a%2Fb%3Fc/upload_activity/..%2Fx%20y/status');
    expect(fake.requests[0]!.headers['x-cleartax-auth-token']).toBe(TOKEN);
  });

  it('keeps an undocumented status verbatim, ignores extra fields, and reads a missing queuedCount as null', async () => {
    const { simulator, client } = await setup();
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'VALIDATING', queuedCount: undefined });
    simulator.setState(ENTITY, a.activityId, { queuedCount: undefined });
    const snapshot = await client.getStatus(TOKEN, { taxableEntityId: ENTITY, activityId: a.activityId });
    expect(snapshot.rawStatus).toBe('VALIDATING');
    expect(snapshot.queuedCount).toBeNull();

    simulator.addFault({
      status: 200,
      body: JSON.stringify({ status: 'INIT', queuedCount: null, extra: { nested: true }, another: 1 }),
    });
    const withExtras = await client.getStatus(TOKEN, { taxableEntityId: ENTITY, activityId: a.activityId });
    expect(withExtras).toMatchObject({ rawStatus: 'INIT', queuedCount: null, errorMessage: null });
    expect(Object.keys(withExtras).sort()).toEqual([
      'activityId',
      'errorMessage',
      'fetchedAt',
      'queuedCount',
      'rawStatus',
      'taxableEntityId',
    ]);
  });

  it('maps 404 to NOT_FOUND keeping the err_1 code and message', async () => {
    const { simulator, client } = await setup();
    const id = '99999999-9999-4999-8999-999999999999';
    const error = await failure(client.getStatus(TOKEN, { taxableEntityId: ENTITY, activityId: id }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.upstream).toEqual({ httpStatus: 404, code: '404', message: `No activity found for id ${id}` });
    expect(simulator.stats.requests).toBe(1);
  });

  it.each([
    [401, 'UNAUTHENTICATED'],
    [403, 'FORBIDDEN'],
  ] as const)('maps %i to %s without retrying', async (status, code) => {
    const { simulator, client } = await setup();
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    simulator.setTokenStatus(TOKEN, status);
    const error = await failure(client.getStatus(TOKEN, { taxableEntityId: ENTITY, activityId: a.activityId }));
    expect(error.code).toBe(code);
    expect(error.upstream?.httpStatus).toBe(status);
    expect(simulator.stats.requests).toBe(1);
    expect(error.message).not.toContain(TOKEN);
  });

  it('retries 5xx and succeeds when upstream recovers', async () => {
    const { simulator, client } = await setup();
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSING' });
    simulator.addFault({ status: 503, times: 2 });
    const snapshot = await client.getStatus(TOKEN, { taxableEntityId: ENTITY, activityId: a.activityId });
    expect(snapshot.rawStatus).toBe('PROCESSING');
    expect(simulator.stats.requests).toBe(3);
  });

  it('gives UPSTREAM_UNAVAILABLE after the retries run out', async () => {
    const { simulator, client } = await setup();
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    simulator.addFault({ status: 500, times: Infinity });
    const error = await failure(client.getStatus(TOKEN, { taxableEntityId: ENTITY, activityId: a.activityId }));
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.upstream).toEqual({ httpStatus: 500, code: '500', message: 'Simulated failure' });
    expect(simulator.stats.requests).toBe(3);
  });

  it('honours a short Retry-After on 429, then answers', async () => {
    const { simulator, client } = await setup();
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    simulator.addFault({ status: 429, headers: { 'retry-after': '0' } });
    await expect(client.getStatus(TOKEN, { taxableEntityId: ENTITY, activityId: a.activityId })).resolves.toMatchObject(
      { rawStatus: 'INIT' },
    );
    expect(simulator.stats.requests).toBe(2);
  });

  it('waits out a non-zero Retry-After before it retries (fake timers)', async () => {
    const { simulator, client } = await setup({ retries: 1, retryBaseMs: 0, maxRetryAfterMs: 5000 });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'UPLOADED' });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    onTestFinished(() => void vi.useRealTimers());
    simulator.addFault({ status: 429, headers: { 'retry-after': '3' } });
    const read = client.getStatus(TOKEN, { taxableEntityId: ENTITY, activityId: a.activityId });
    // Real I/O goes on under fake timers; only the client's wait is on the fake clock.
    await until(() => vi.getTimerCount() === 1);
    expect(simulator.stats.requests).toBe(1);
    await vi.advanceTimersByTimeAsync(2999);
    expect(simulator.stats.requests).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => simulator.stats.requests === 2);
    await expect(read).resolves.toMatchObject({ rawStatus: 'UPLOADED' });
  });

  it('gives RATE_LIMITED at once when Retry-After is longer than it may wait', async () => {
    const { simulator, client } = await setup({ maxRetryAfterMs: 1000 });
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    simulator.addFault({ status: 429, headers: { 'retry-after': '120' }, times: Infinity });
    const error = await failure(client.getStatus(TOKEN, { taxableEntityId: ENTITY, activityId: a.activityId }));
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfterMs).toBe(120_000);
    expect(simulator.stats.requests).toBe(1);
  });

  it('gives RATE_LIMITED after retries when 429 persists', async () => {
    const { simulator, client } = await setup();
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    simulator.addFault({ status: 429, times: Infinity });
    const error = await failure(client.getStatus(TOKEN, { taxableEntityId: ENTITY, activityId: a.activityId }));
    expect(error.code).toBe('RATE_LIMITED');
    expect(simulator.stats.requests).toBe(3);
  });

  it('times out a slow answer as UPSTREAM_UNAVAILABLE', async () => {
    const { simulator, client } = await setup({ timeoutMs: 50, retries: 1 });
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    simulator.addFault({ delayMs: 300, times: Infinity });
    const error = await failure(client.getStatus(TOKEN, { taxableEntityId: ENTITY, activityId: a.activityId }));
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.message).toContain('within 50 ms');
    expect(simulator.stats.requests).toBe(2);
  });

  it('treats a connection reset or refused connection as UPSTREAM_UNAVAILABLE', async () => {
    const { simulator, client } = await setup({ retries: 0 });
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    simulator.addFault({ reset: true });
    expect((await failure(client.getStatus(TOKEN, { taxableEntityId: ENTITY, activityId: a.activityId }))).code).toBe(
      'UPSTREAM_UNAVAILABLE',
    );

    const url = simulator.url;
    await simulator.stop();
    const closed = createClearTaxClient({
      baseUrl: url,
      timeoutMs: 500,
      retries: 0,
      retryBaseMs: 1,
      maxRetryAfterMs: 0,
      maxBodyBytes: 65_536,
      logger: createLogger('silent'),
    });
    const refused = await failure(closed.getStatus(TOKEN, { taxableEntityId: ENTITY, activityId: a.activityId }));
    expect(refused.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(refused.message).toContain('ECONNREFUSED');
  });

  it.each([
    ['a body that is not JSON', '<html>oops</html>'],
    ['a body without status', '{"activityId":"x"}'],
    ['a wrongly typed queuedCount', '{"status":"QUEUED","queuedCount":"three"}'],
    ['a JSON array', '[]'],
  ])('maps %s to UPSTREAM_BAD_RESPONSE without retrying', async (_name, body) => {
    const { simulator, client } = await setup();
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    simulator.addFault({ status: 200, body });
    const error = await failure(client.getStatus(TOKEN, { taxableEntityId: ENTITY, activityId: a.activityId }));
    expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(simulator.stats.requests).toBe(1);
  });

  it('maps an unexpected 4xx to UPSTREAM_BAD_RESPONSE, keeping what upstream said', async () => {
    const { simulator, client } = await setup();
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    simulator.addFault({ status: 400 });
    const error = await failure(client.getStatus(TOKEN, { taxableEntityId: ENTITY, activityId: a.activityId }));
    expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(error.upstream).toEqual({ httpStatus: 400, code: '400', message: 'Simulated failure' });
  });

  it('ping tells whether upstream answers HTTP at all', async () => {
    const { simulator, client } = await setup();
    expect(await client.ping()).toBe(true);
    await simulator.stop();
    expect(await client.ping()).toBe(false);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, and ignores garbage', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('ClearTaxClient against a hostile upstream', () => {
  const client = (url: string, options: Partial<ClearTaxClientOptions> = {}) =>
    createClearTaxClient({
      baseUrl: url,
      timeoutMs: 1000,
      retries: 2,
      retryBaseMs: 1,
      maxRetryAfterMs: 0,
      maxBodyBytes: 65_536,
      logger: createLogger('silent'),
      ...options,
    });
  const key = { taxableEntityId: ENTITY, activityId: '22222222-3333-4444-8555-666666666666' };

  it('never follows a redirect: the token stays home, and a 3xx is UPSTREAM_BAD_RESPONSE', async () => {
    const elsewhere = await startFakeUpstream((_req, res) => res.writeHead(200).end('{"status":"PROCESSED"}'));
    const redirecting = await startFakeUpstream((_req, res) =>
      res.writeHead(302, { location: `${elsewhere.url}/steal` }).end(),
    );
    const error = await failure(client(redirecting.url).getStatus(TOKEN, key));
    expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(error.upstream?.httpStatus).toBe(302);
    expect(redirecting.requests).toHaveLength(1);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('stops reading an endless body at maxBodyBytes: UPSTREAM_BAD_RESPONSE, socket closed, no retry', async () => {
    let closed = 0;
    const endless = await startFakeUpstream((req, res) => {
      req.socket.on('close', () => (closed += 1));
      endlessBody(req, res);
    });
    const error = await failure(client(endless.url, { maxBodyBytes: 64 * 1024 }).getStatus(TOKEN, key));
    expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(error.message).toContain('over 65536 bytes');
    expect(endless.requests).toHaveLength(1);
    await expect.poll(() => closed).toBe(1);
  });

  it('survives the attempt timeout firing after it stopped reading an oversized body', async () => {
    const big = await startFakeUpstream((_req, res) => {
      res.writeHead(200);
      res.write(Buffer.alloc(2048, 'x')); // over the limit, then silence: the response never ends
    });
    const error = await failure(client(big.url, { maxBodyBytes: 1024, timeoutMs: 30 }).getStatus(TOKEN, key));
    expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    // Were the late abort to crash, the test process would die here.
    const later = Date.now() + 60;
    await expect.poll(() => Date.now(), { interval: 10 }).toBeGreaterThan(later);
  });

  it('cuts a huge upstream error message before it reaches extensions.upstream', async () => {
    const huge = 'n'.repeat(40_000);
    const upstream = await startFakeUpstream((_req, res) =>
      res.writeHead(404).end(JSON.stringify({ errors: { err_1: { code: '404', message: huge } } })),
    );
    const error = await failure(client(upstream.url).getStatus(TOKEN, key));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.upstream!.message).toHaveLength(501);
    expect(error.message.length).toBeLessThanOrEqual(501);
  });

  it('refuses a token that cannot be a header as UNAUTHENTICATED, without any attempt', async () => {
    const upstream = await startFakeUpstream((_req, res) => res.writeHead(200).end('{"status":"INIT"}'));
    for (const token of ['line\nbreak', 'euro€']) {
      const error = await failure(client(upstream.url).getStatus(token, key));
      expect(error.code).toBe('UNAUTHENTICATED');
      expect(error.message).not.toContain(token);
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('ends at once, without retrying, when the caller aborts; and forwards traceparent', async () => {
    const upstream = await startFakeUpstream(() => undefined); // never answers
    const controller = new AbortController();
    const read = failure(
      client(upstream.url).getStatus(TOKEN, key, {
        signal: controller.signal,
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      }),
    );
    await expect.poll(() => upstream.requests.length).toBe(1);
    controller.abort(new Error('The request deadline passed'));
    const error = await read;
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.message).toBe('The request deadline passed');
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]!.headers.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });
});
