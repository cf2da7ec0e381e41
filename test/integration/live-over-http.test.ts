import { once } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import { print } from 'graphql';
import { UploadActivityDocument, UploadActivityStatusChangedDocument } from '../../schema/generated/graphql.js';
import { HS_SECRET, hsKey, sign } from '../helpers/jwt.js';
import { letPollsPass, requestsFor } from '../helpers/polls.js';
import { ENTITY, TOKEN, startStack, type LogLine } from '../helpers/stack.js';
import { sseSingleConnection, transports } from '../helpers/transports.js';
import { record } from '../helpers/ws-client.js';
import { startMain } from '../helpers/main-process.js';

/**
 * Live over HTTP at the wire: the bytes of Apollo's multipart subscriptions and of
 * GraphQL over SSE that the real clients hide (framing, heartbeats, the closing
 * delimiter, refusals before a stream, caps, ends), and the same rules as every
 * transport (access, CORS, access log, shared pollers) with the real clients where
 * semantics are under test. Raw tests read the response bytes and compare them
 * exactly; they never parse the protocol to then check what it carried.
 */

const MISSING = '99999999-9999-4999-8999-999999999999';
const OTHER_ENTITY = '99999999-2222-4333-8444-555555555555';
/** Short intervals: every poll-driven test runs in well under a second per state. */
const FAST = { POLL_INTERVAL_MS: '20', POLL_MAX_INTERVAL_MS: '80', UPSTREAM_RETRY_BASE_MS: '1' };
/** No heartbeat within any test: for exact bodies. */
const NO_HEARTBEAT = { HTTP_STREAM_HEARTBEAT_MS: '3600000' };
/** A streaming Accept as Apollo's clients send it (multipart with subscriptionSpec=1.0, JSON as fallback). */
const MULTIPART_ACCEPT = 'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json';

/** A subscription whose events are byte-for-byte predictable: the status alone. */
const STATUS_ONLY =
  'subscription StatusOnly($taxableEntityId: UUID!, $activityId: UUID!) { uploadActivityStatusChanged(taxableEntityId: $taxableEntityId, activityId: $activityId) { status } }';
const SUBSCRIPTION = print(UploadActivityStatusChangedDocument);

/** The contract's multipart framing, as literal bytes. */
const DELIMITER = '\r\n--graphql';
const part = (json: string) => `\r\ncontent-type: application/json\r\n\r\n${json}${DELIMITER}`;
const statusPart = (status: string) =>
  part(`{"payload":{"data":{"uploadActivityStatusChanged":{"status":"${status}"}}}}`);
const CLOSE = '--\r\n';
/** A multipart body whose last part is a result, then the closing delimiter: captures that result's JSON. */
const LAST_PART = /\r\n--graphql\r\ncontent-type: application\/json\r\n\r\n(\{[^\r\n]*\})\r\n--graphql--\r\n$/;
/** An SSE body (distinct connections) whose last `next` is followed by `complete`: captures that result's JSON. */
const SSE_LAST_NEXT = /event: next\ndata: (\{[^\n]*\})\n\nevent: complete\ndata:\n\n$/;
/**
 * The error result a stream ended with, from its whole body: what the last part's
 * `payload` (multipart) or the last `next` (SSE) carried, just before the end.
 */
function endingResult(protocol: Protocol, body: string): unknown {
  const match = (protocol === 'multipart' ? LAST_PART : SSE_LAST_NEXT).exec(body);
  expect(match, `no result just before the end of ${JSON.stringify(body)}`).not.toBeNull();
  const last = JSON.parse(match![1]!) as { payload?: unknown };
  return protocol === 'multipart' ? last.payload : last;
}
/** The contract's ending error: `{"data":null,"errors":[…]}` with one error of `code`. */
const endingError = (code: string, extra: Record<string, unknown> = {}) => ({
  data: null,
  errors: [expect.objectContaining({ ...extra, extensions: expect.objectContaining({ code }) })],
});
const SSE_COMPLETE = 'event: complete\ndata:\n\n';
const sseNext = (status: string) =>
  `event: next\ndata: {"data":{"uploadActivityStatusChanged":{"status":"${status}"}}}\n\n`;

type Protocol = 'multipart' | 'sse';
type Variables = Record<string, unknown>;

/** One HTTP response read as it arrives. */
interface RawStream {
  response: Response;
  /** The body so far. */
  readonly text: string;
  /** The whole body, once the server ended it (or the client aborted). */
  ended: Promise<string>;
  abort(): void;
}

/** Sends one request and reads its body bytes as they arrive; aborted with the test. */
async function openRaw(url: string, init: RequestInit): Promise<RawStream> {
  const controller = new AbortController();
  onTestFinished(() => controller.abort());
  const response = await fetch(url, { ...init, signal: controller.signal });
  let text = '';
  const ended = (async () => {
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
    return text;
  })();
  ended.catch(() => undefined);
  return {
    response,
    get text() {
      return text;
    },
    ended,
    abort: () => controller.abort(),
  };
}

/** A subscription over one HTTP streaming protocol, as a raw request (multipart: POST /graphql; SSE: POST /graphql/stream, distinct connections). */
function subscribeRaw(
  protocol: Protocol,
  url: string,
  variables: Variables,
  options: { headers?: Record<string, string>; withoutToken?: boolean } = {},
): Promise<RawStream> {
  const body = JSON.stringify({ query: STATUS_ONLY, variables });
  const headers = {
    'content-type': 'application/json',
    ...(options.withoutToken ? {} : { 'x-cleartax-auth-token': TOKEN }),
    ...options.headers,
  };
  return protocol === 'multipart'
    ? openRaw(url, { method: 'POST', headers: { accept: MULTIPART_ACCEPT, ...headers }, body })
    : openRaw(`${url}/stream`, { method: 'POST', headers: { accept: 'text/event-stream', ...headers }, body });
}

/** The body of a response that should be a refusal: read whole unless it is a stream (which would not end). */
const refusalBody = async (stream: RawStream) => (stream.response.status === 200 ? 'a stream' : await stream.ended);

/** Whether the first event has arrived: a multipart payload part, or an SSE `next`. */
const hasEvent = (stream: RawStream) => stream.text.includes('{"payload":') || stream.text.includes('event: next');

/** Open streams per protocol, as /metrics shows them (NaN when the series is missing). */
async function gauge(metricsUrl: string, protocol: Protocol): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return Number(new RegExp(`^gateway_http_streams\\{protocol="${protocol}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
}

const SERVER_TOKEN = 'server-cleartax-token';
const jwtEnv = { AUTH_MODE: 'jwt', CLEARTAX_AUTH_TOKEN: SERVER_TOKEN, AUTH_JWT_SECRET: HS_SECRET };
const now = () => Math.floor(Date.now() / 1000);
const bearer = async (claims: Record<string, unknown> = {}) => ({
  authorization: `Bearer ${await sign({ sub: 'user-1', taxable_entity_ids: [ENTITY], ...claims }, hsKey(), 'HS256')}`,
});

const accessLines = (logs: LogLine[]) => logs.filter((line) => line.access === true);

describe('Apollo multipart subscriptions: the bytes on the wire', () => {
  it('answers 200 with the contract headers, never compressed, and frames each event then the closing delimiter after a terminal status', async () => {
    const { app, simulator } = await startStack({ ...FAST, ...NO_HEARTBEAT });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSING', isAuto: false });
    const stream = await subscribeRaw(
      'multipart',
      app.url,
      { taxableEntityId: ENTITY, activityId: a.activityId },
      { headers: { 'accept-encoding': 'gzip' } },
    );
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";subscriptionSpec=1.0');
    expect(stream.response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(stream.response.headers.get('x-accel-buffering')).toBe('no');
    expect(stream.response.headers.get('content-encoding')).toBeNull();
    // The delimiter and the first part go out at once: nothing waits for the next.
    await expect.poll(() => stream.text).toBe(DELIMITER + statusPart('PROCESSING'));
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSED' });
    expect(await stream.ended).toBe(DELIMITER + statusPart('PROCESSING') + statusPart('PROCESSED') + CLOSE);
  });

  it('writes a {} heartbeat part whenever nothing was written for HTTP_STREAM_HEARTBEAT_MS', async () => {
    const { app, simulator } = await startStack({ ...FAST, HTTP_STREAM_HEARTBEAT_MS: '50' });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 3, isAuto: false });
    const stream = await subscribeRaw('multipart', app.url, { taxableEntityId: ENTITY, activityId: a.activityId });
    const HEARTBEAT = part('{}');
    /** Heartbeats written after the first event: while nothing changes. */
    const heartbeatsAfterEvent = () => {
      const at = stream.text.indexOf(statusPart('QUEUED'));
      return at < 0 ? 0 : stream.text.slice(at).split(HEARTBEAT).length - 1;
    };
    await expect.poll(heartbeatsAfterEvent, { timeout: 5000, interval: 10 }).toBeGreaterThanOrEqual(3);
    // Every byte is a well-formed part: heartbeats (one may precede a slow first read) and the one event.
    const whole = stream.text.slice(0, stream.text.lastIndexOf(DELIMITER) + DELIMITER.length);
    expect(whole.startsWith(DELIMITER)).toBe(true);
    expect(whole.replaceAll(HEARTBEAT, '')).toBe(DELIMITER + statusPart('QUEUED'));
    // A change is an event part among them, and the stream still ends with the closing delimiter.
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSED' });
    const body = await stream.ended;
    expect(body.endsWith(statusPart('PROCESSED') + CLOSE)).toBe(true);
    expect(body.replaceAll(HEARTBEAT, '')).toBe(DELIMITER + statusPart('QUEUED') + statusPart('PROCESSED') + CLOSE);
  });

  it('sends an error that ends the subscription (NOT_FOUND) as a {"payload":{"data":null,"errors"}} part, then the closing delimiter', async () => {
    const { app, simulator } = await startStack({ ...FAST, ...NO_HEARTBEAT });
    const stream = await subscribeRaw('multipart', app.url, { taxableEntityId: ENTITY, activityId: MISSING });
    expect(stream.response.status).toBe(200);
    const body = await stream.ended;
    // Exactly one part: the error, then `--graphql--\r\n`.
    expect(body).toMatch(
      /^\r\n--graphql\r\ncontent-type: application\/json\r\n\r\n\{"payload":[^\r\n]*\}\r\n--graphql--\r\n$/,
    );
    expect(endingResult('multipart', body)).toStrictEqual(
      endingError('NOT_FOUND', { path: ['uploadActivityStatusChanged'] }),
    );
    expect(app.watcher.size).toEqual({ keys: 0, subscriptions: 0 });
    expect(requestsFor({ simulator }, MISSING)).toBe(1);
  });

  it('answers a subscription over plain HTTP with 406 naming the streaming media types; a query asked for with the multipart Accept is plain JSON', async () => {
    const { app, simulator } = await startStack(FAST);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 2, isAuto: false });
    const variables = { taxableEntityId: ENTITY, activityId: a.activityId };
    const plain = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-cleartax-auth-token': TOKEN },
      body: JSON.stringify({ query: SUBSCRIPTION, variables }),
    });
    expect(plain.status).toBe(406);
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/);
    const refused = (await plain.json()) as { errors: { message: string }[] };
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors[0]!.message).toContain('multipart/mixed;boundary=graphql;subscriptionSpec=1.0');
    expect(refused.errors[0]!.message).toContain('text/event-stream');
    expect(app.watcher.size).toEqual({ keys: 0, subscriptions: 0 });

    const query = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: MULTIPART_ACCEPT, 'x-cleartax-auth-token': TOKEN },
      body: JSON.stringify({ query: print(UploadActivityDocument), variables }),
    });
    expect(query.status).toBe(200);
    expect(query.headers.get('content-type')).toMatch(/^application\/json/);
    const answer = (await query.json()) as { data: { uploadActivity: { status: string; queuedCount: number } } };
    expect(answer.data.uploadActivity).toMatchObject({ status: 'QUEUED', queuedCount: 2 });
  });
});

describe('Live over HTTP: caps, ends and cleanup', () => {
  it.each(['multipart', 'sse'] as const)(
    'refuses a %s stream past MAX_STREAMS (all protocols together) with a 503 JSON answer and Retry-After',
    async (protocol) => {
      const { app, simulator } = await startStack({ ...FAST, MAX_STREAMS: '2' });
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 1, isAuto: false });
      const variables = { taxableEntityId: ENTITY, activityId: a.activityId };
      const open = [await subscribeRaw('multipart', app.url, variables), await subscribeRaw('sse', app.url, variables)];
      expect(open.map((stream) => stream.response.status)).toEqual([200, 200]);
      await expect.poll(() => open.every(hasEvent)).toBe(true);

      const third = await subscribeRaw(protocol, app.url, variables);
      const refused = await refusalBody(third);
      expect(third.response.status, refused).toBe(503);
      expect(third.response.headers.get('retry-after')).toBe('5');
      expect(third.response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(JSON.parse(refused)).toEqual({
        errors: [
          expect.objectContaining({
            message: 'Too many open streams: try again shortly',
            extensions: { code: 'RATE_LIMITED' },
          }),
        ],
      });
      expect(app.watcher.size).toEqual({ keys: 1, subscriptions: 2 });

      // A slot freed is a slot to take again.
      open[protocol === 'multipart' ? 0 : 1]!.abort();
      await expect.poll(() => gauge(app.metricsUrl, protocol)).toBe(0);
      const again = await subscribeRaw(protocol, app.url, variables);
      expect(again.response.status).toBe(200);
    },
  );

  it('counts open streams per protocol in gateway_http_streams, back to 0 when they end', async () => {
    const { app, simulator } = await startStack(FAST);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 1, isAuto: false });
    const variables = { taxableEntityId: ENTITY, activityId: a.activityId };
    expect([await gauge(app.metricsUrl, 'multipart'), await gauge(app.metricsUrl, 'sse')]).toEqual([0, 0]);
    const multipart = [
      await subscribeRaw('multipart', app.url, variables),
      await subscribeRaw('multipart', app.url, variables),
    ];
    const sse = await subscribeRaw('sse', app.url, variables);
    await expect.poll(() => [...multipart, sse].every(hasEvent)).toBe(true);
    expect([await gauge(app.metricsUrl, 'multipart'), await gauge(app.metricsUrl, 'sse')]).toEqual([2, 1]);
    // One ends with its subscription (terminal status), the others as their clients leave.
    multipart[0]!.abort();
    await expect.poll(() => gauge(app.metricsUrl, 'multipart')).toBe(1);
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSED' });
    await Promise.all([multipart[1]!.ended, sse.ended]);
    await expect.poll(() => gauge(app.metricsUrl, 'multipart')).toBe(0);
    await expect.poll(() => gauge(app.metricsUrl, 'sse')).toBe(0);
  });

  it.each(['multipart', 'sse'] as const)(
    'frees a %s stream the client aborts: its subscriber, its poller and its gauge slot',
    async (protocol) => {
      const stack = await startStack({ POLL_INTERVAL_MS: '20', POLL_MAX_INTERVAL_MS: '20' });
      const { app, simulator } = stack;
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 3, isAuto: false });
      const stream = await subscribeRaw(protocol, app.url, { taxableEntityId: ENTITY, activityId: a.activityId });
      await expect.poll(() => hasEvent(stream)).toBe(true);
      await expect.poll(() => requestsFor(stack, a.activityId)).toBeGreaterThanOrEqual(3);
      expect(app.watcher.size).toEqual({ keys: 1, subscriptions: 1 });
      expect(await gauge(app.metricsUrl, protocol)).toBe(1);

      stream.abort();
      await expect.poll(() => app.watcher.size).toEqual({ keys: 0, subscriptions: 0 });
      await expect.poll(() => gauge(app.metricsUrl, protocol)).toBe(0);
      const whenGone = requestsFor(stack, a.activityId);
      await letPollsPass(stack, 6);
      // A poll already on the wire when the client left may still arrive; nothing after it.
      expect(requestsFor(stack, a.activityId)).toBeLessThanOrEqual(whenGone + 1);
    },
  );

  it('ends every open stream properly when the gateway stops: the closing delimiter (multipart), `complete` (SSE)', async () => {
    const { app, simulator } = await startStack({ ...FAST, ...NO_HEARTBEAT });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 1, isAuto: false });
    const variables = { taxableEntityId: ENTITY, activityId: a.activityId };
    const multipart = await subscribeRaw('multipart', app.url, variables);
    const sse = await subscribeRaw('sse', app.url, variables);
    await expect.poll(() => hasEvent(multipart) && hasEvent(sse)).toBe(true);
    await app.stop();
    expect(await multipart.ended).toBe(DELIMITER + statusPart('QUEUED') + CLOSE);
    const sseBody = await sse.ended;
    expect(sseBody).toContain(sseNext('QUEUED'));
    expect(sseBody.endsWith(SSE_COMPLETE)).toBe(true);
    expect(app.watcher.size).toEqual({ keys: 0, subscriptions: 0 });
  });

  it('npm start: on SIGTERM an open multipart stream gets its closing delimiter, and the process exits 0', async () => {
    const { child, output } = startMain({
      // The seeded activities stay where they start: the stream stays open until SIGTERM.
      SIMULATOR_STEP_MS: '3600000',
      ...NO_HEARTBEAT,
    });
    await expect.poll(output, { timeout: 15_000, interval: 50 }).toContain('Seeded activities');
    const url = /GraphQL:\s+(\S+)/.exec(output())![1]!;
    const [, entity, activity] = /\s([0-9a-f-]{36}) ([0-9a-f-]{36}) QUEUED/.exec(output())!;
    const stream = await subscribeRaw('multipart', url, { taxableEntityId: entity, activityId: activity });
    expect(stream.response.status).toBe(200);
    await expect.poll(() => stream.text, { timeout: 5000 }).toBe(DELIMITER + statusPart('QUEUED'));
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(await stream.ended).toBe(DELIMITER + statusPart('QUEUED') + CLOSE);
    expect(code).toBe(0);
  });
});

describe('Live over HTTP: the same access rules', () => {
  it.each(['multipart', 'sse'] as const)(
    'refuses a %s subscription without a token (passthrough) before any stream: an ordinary JSON 401',
    async (protocol) => {
      const { app, simulator } = await startStack(FAST);
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', isAuto: false });
      const stream = await subscribeRaw(
        protocol,
        app.url,
        { taxableEntityId: ENTITY, activityId: a.activityId },
        { withoutToken: true },
      );
      const text = await refusalBody(stream);
      expect(stream.response.status, text).toBe(401);
      expect(stream.response.headers.get('content-type')).toMatch(/^application\/json/);
      const body = JSON.parse(text) as { errors: { extensions: { code: string } }[] };
      expect(body.errors.map((error) => error.extensions.code)).toEqual(['UNAUTHENTICATED']);
      expect(simulator.stats.requests).toBe(0);
      expect(await gauge(app.metricsUrl, protocol)).toBe(0);
    },
  );

  it.each(['multipart', 'sse'] as const)(
    'AUTH_MODE=jwt over %s: a valid JWT streams; one that expires while it runs ends it with UNAUTHENTICATED, then the normal end',
    async (protocol) => {
      const { app, simulator } = await startStack({ ...FAST, ...NO_HEARTBEAT, ...jwtEnv });
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 2, isAuto: false });
      const variables = { taxableEntityId: ENTITY, activityId: a.activityId };
      const valid = await subscribeRaw(protocol, app.url, variables, { headers: await bearer() });
      expect(valid.response.status).toBe(200);
      await expect.poll(() => hasEvent(valid)).toBe(true);

      // Expired 28 s ago, inside the 30 s tolerance: refused 1 to 2 s from now.
      const expiring = await subscribeRaw(protocol, app.url, variables, {
        headers: await bearer({ exp: now() - 28 }),
      });
      const startedAt = Date.now();
      expect(expiring.response.status).toBe(200);
      const body = await expiring.ended;
      expect(Date.now() - startedAt).toBeLessThan(5000);
      expect(endingResult(protocol, body)).toStrictEqual(endingError('UNAUTHENTICATED'));
      // The first event came before it, and the valid one is still open.
      expect(body).toContain(protocol === 'multipart' ? DELIMITER + statusPart('QUEUED') : sseNext('QUEUED'));
      expect(valid.text).not.toContain('UNAUTHENTICATED');
      expect(app.watcher.size).toEqual({ keys: 1, subscriptions: 1 });
    },
  );

  it.each(['multipart', 'sse'] as const)(
    'AUTH_MODE=jwt over %s: an entity outside the claim arrives as a FORBIDDEN error, then the normal end, with no upstream call',
    async (protocol) => {
      const { app, simulator } = await startStack({ ...FAST, ...NO_HEARTBEAT, ...jwtEnv });
      const a = simulator.createActivity({ taxableEntityId: OTHER_ENTITY, status: 'QUEUED', isAuto: false });
      const stream = await subscribeRaw(
        protocol,
        app.url,
        { taxableEntityId: OTHER_ENTITY, activityId: a.activityId },
        { headers: await bearer() },
      );
      const body = await stream.ended;
      expect(stream.response.status, body).toBe(200);
      expect(endingResult(protocol, body)).toStrictEqual(
        endingError('FORBIDDEN', { path: ['uploadActivityStatusChanged'] }),
      );
      expect(simulator.stats.requests).toBe(0);
    },
  );

  it.each(['multipart', 'sse'] as const)(
    'refuses a %s subscription past RATE_LIMIT_PER_MINUTE before any stream, as any HTTP operation: 429 with Retry-After',
    async (protocol) => {
      const { app, simulator } = await startStack({ ...FAST, RATE_LIMIT_PER_MINUTE: '1' });
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', isAuto: false });
      const variables = { taxableEntityId: ENTITY, activityId: a.activityId };
      const first = await subscribeRaw(protocol, app.url, variables);
      expect(first.response.status).toBe(200);
      const second = await subscribeRaw(protocol, app.url, variables);
      const refused = await refusalBody(second);
      expect(second.response.status, refused).toBe(429);
      expect(JSON.parse(refused)).toEqual({
        errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED' }) })],
      });
      expect(second.response.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    },
  );

  it('answers a listed origin with CORS headers on a multipart stream and on /graphql/stream, whose preflight allows the event stream token header', async () => {
    const origin = 'https://board.example.com';
    const { app, simulator } = await startStack({ ...FAST, CORS_ORIGINS: origin });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', isAuto: false });
    const variables = { taxableEntityId: ENTITY, activityId: a.activityId };
    for (const protocol of ['multipart', 'sse'] as const) {
      const stream = await subscribeRaw(protocol, app.url, variables, { headers: { origin } });
      expect({ protocol, status: stream.response.status }).toEqual({ protocol, status: 200 });
      expect(stream.response.headers.get('access-control-allow-origin')).toBe(origin);
      await expect.poll(() => hasEvent(stream)).toBe(true);
      stream.abort();
    }
    const preflight = await fetch(`${app.url}/stream`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-graphql-event-stream-token',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
    expect(preflight.headers.get('access-control-allow-headers')?.split(',')).toContain('x-graphql-event-stream-token');
    expect(preflight.headers.get('access-control-allow-methods')?.split(',')).toContain('POST');
  });
});

describe('Live over HTTP: the same access log, clients and pollers', () => {
  it('writes one access line per ended stream, with transport multipart or sse and the stream request id', async () => {
    const { app, simulator, logs } = await startStack({ ...FAST, LOG_LEVEL: 'info' });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSING', isAuto: false });
    const variables = { taxableEntityId: ENTITY, activityId: a.activityId };
    const multipart = await subscribeRaw('multipart', app.url, variables, { headers: { 'x-request-id': 'mp-1' } });
    const sse = await subscribeRaw('sse', app.url, variables, { headers: { 'x-request-id': 'sse-1' } });
    await expect.poll(() => hasEvent(multipart) && hasEvent(sse)).toBe(true);
    expect(accessLines(logs)).toEqual([]);
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSED' });
    await Promise.all([multipart.ended, sse.ended]);
    await expect.poll(() => accessLines(logs).length).toBe(2);
    const byTransport = Object.fromEntries(accessLines(logs).map((line) => [line.transport, line]));
    for (const [transport, requestId] of [
      ['multipart', 'mp-1'],
      ['sse', 'sse-1'],
    ] as const) {
      expect(byTransport[transport]).toMatchObject({
        level: 30,
        requestId,
        transport,
        operationName: 'StatusOnly',
        operationType: 'subscription',
        callerId: expect.any(String),
        ids: 1,
        durationMs: expect.any(Number),
        outcome: 'ok',
      });
    }
    expect(JSON.stringify(accessLines(logs))).not.toContain(TOKEN);
  });

  it('graphql-sse single connection mode: delivers a whole lifecycle in order then completes, and a disposed client frees the watcher', async () => {
    const { app, simulator } = await startStack(FAST);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, queueLength: 2 });
    const client = sseSingleConnection.connect(app.url);
    const sub = record(client, UploadActivityStatusChangedDocument, {
      taxableEntityId: ENTITY,
      activityId: a.activityId,
    });
    const expected = ['INIT:0', 'UPLOADED:0', 'QUEUED:2', 'QUEUED:1', 'PROCESSING:0', 'PROCESSED:0'];
    for (let i = 0; i < expected.length; i++) {
      await expect.poll(() => sub.events.length, { timeout: 5000, interval: 5 }).toBe(i + 1);
      if (i < expected.length - 1) simulator.step();
    }
    await sub.done;
    const states = sub.events.map((e) => {
      const state = e.data!.uploadActivityStatusChanged;
      return `${state.status}:${state.queuedCount}`;
    });
    expect(states).toEqual(expected);
    await expect.poll(() => app.watcher.size).toEqual({ keys: 0, subscriptions: 0 });

    // A second client: graphql-sse's client (2.6.1) writes its stream token into the headers object it was given,
    // so after its lazy close it reserves again with the old token, which the server answers 409 while the old
    // stream is still being torn down. Not what this test is about.
    const second = sseSingleConnection.connect(app.url);
    const b = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 1, isAuto: false });
    const open = record(second, UploadActivityStatusChangedDocument, {
      taxableEntityId: ENTITY,
      activityId: b.activityId,
    });
    await expect.poll(() => open.events.length).toBe(1);
    expect(app.watcher.size).toEqual({ keys: 1, subscriptions: 1 });
    await second.dispose();
    await expect.poll(() => app.watcher.size).toEqual({ keys: 0, subscriptions: 0 });
    await expect.poll(() => gauge(app.metricsUrl, 'sse')).toBe(0);
  });

  it('shares one poller between graphql-ws, multipart and SSE subscribers: each gets every state once, in order, at most one upstream request per interval', async () => {
    const interval = 50;
    const stack = await startStack({ POLL_INTERVAL_MS: String(interval), POLL_MAX_INTERVAL_MS: String(interval) });
    const { app, simulator } = stack;
    const a = simulator.createActivity({ taxableEntityId: ENTITY, queueLength: 2 });
    expect(transports.map((t) => t.name)).toEqual(['graphql-ws', 'Apollo multipart (HttpLink)', 'graphql-sse']);
    const subs = transports.map((transport) =>
      record(transport.connect(app.url), UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: a.activityId,
      }),
    );
    await expect.poll(() => subs.map((s) => s.events.length), { timeout: 5000 }).toEqual([1, 1, 1]);
    expect(app.watcher.size).toEqual({ keys: 1, subscriptions: 3 });
    const before = requestsFor(stack, a.activityId);
    const started = Date.now();
    const expected = ['INIT:0', 'UPLOADED:0', 'QUEUED:2', 'QUEUED:1', 'PROCESSING:0', 'PROCESSED:0'];
    for (let i = 1; i < expected.length; i++) {
      // Two unchanged polls between changes: no event from them, and the bound below is exercised.
      const at = requestsFor(stack, a.activityId);
      await expect
        .poll(() => requestsFor(stack, a.activityId), { timeout: 5000, interval: 5 })
        .toBeGreaterThanOrEqual(at + 2);
      simulator.step();
      await expect
        .poll(() => subs.map((s) => s.events.length), { timeout: 5000, interval: 5 })
        .toEqual([i + 1, i + 1, i + 1]);
    }
    const requests = requestsFor(stack, a.activityId) - before;
    const elapsed = Date.now() - started;
    await Promise.all(subs.map((s) => s.done));
    for (const sub of subs) {
      expect(
        sub.events.map((e) => {
          const state = e.data!.uploadActivityStatusChanged;
          return `${state.status}:${state.queuedCount}`;
        }),
      ).toEqual(expected);
    }
    // n polls, each at least one interval after the previous one settled: three pollers would make it fail.
    expect(requests).toBeLessThanOrEqual(Math.floor(elapsed / interval) + 1);
    await expect.poll(() => app.watcher.size).toEqual({ keys: 0, subscriptions: 0 });
  });
});
