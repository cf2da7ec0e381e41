import { print } from 'graphql';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { UploadActivityDocument, UploadActivityStatusChangedDocument } from '../../schema/generated/graphql.js';
import { rsaKey, sign, startJwks, type JwksMode } from '../helpers/jwt.js';
import { ENTITY, startStack, type GraphQLResponse, type LogLine } from '../helpers/stack.js';
import { connect, record } from '../helpers/ws-client.js';

/**
 * The JWKS key source when it fails: an outage is the server's trouble
 * (AUTH_UNAVAILABLE: HTTP 503 + Retry-After, WebSocket 1013), never a bad token;
 * the cooldown holds while fetches fail; cached keys outlive jose's cache age.
 */

const SERVER_TOKEN = 'server-cleartax-token';
const claims = (extra: Record<string, unknown> = {}) => ({ sub: 'user-1', taxable_entity_ids: [ENTITY], ...extra });

async function setup(env: Record<string, string> = {}, mode: JwksMode = 'ok') {
  const [k1, k2] = await Promise.all([rsaKey('k1'), rsaKey('k2')]);
  const jwks = await startJwks([k1.jwk]);
  jwks.state.mode = mode;
  const stack = await startStack({
    AUTH_MODE: 'jwt',
    CLEARTAX_AUTH_TOKEN: SERVER_TOKEN,
    AUTH_JWKS_URL: jwks.url,
    ...env,
  });
  const activity = stack.simulator.createActivity({
    taxableEntityId: ENTITY,
    status: 'QUEUED',
    queuedCount: 1,
    isAuto: false,
  });
  /** A JWT signed with k1, the key the JWKS lists. */
  const known = () => sign(claims(), k1.privateKey, 'RS256', 'k1');
  /** A JWT whose kid the JWKS never lists (signed with k2, kid `unknown-<n>`). */
  const unknown = (n: number) => sign(claims(), k2.privateKey, 'RS256', `unknown-${n}`);
  /** POSTs the activity query with `Authorization: Bearer <jwt>`; status, Retry-After, body and how long it took. */
  async function ask(jwt: string) {
    const started = performance.now();
    const response = await fetch(stack.app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
      body: JSON.stringify({
        query: print(UploadActivityDocument),
        variables: { taxableEntityId: ENTITY, activityId: activity.activityId },
      }),
    });
    const json = (await response.json()) as GraphQLResponse<{ uploadActivity: { status: string } | null }>;
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      json,
      code: json.errors?.[0]?.extensions?.code,
      ms: performance.now() - started,
    };
  }
  return { ...stack, jwks, activity, known, unknown, ask };
}

const jwtLines = (logs: LogLine[], level: number) =>
  logs.filter((line) => line.component === 'jwt' && line.level === level);
const WARN = 40;
const INFO = 30;

describe('JWKS outage', () => {
  it.each<[string, JwksMode]>([
    ['answers 500', 'error'],
    ['answers something that is not a key set', 'garbage'],
  ])(
    'a JWKS that %s: HTTP 503 with Retry-After and AUTH_UNAVAILABLE, no upstream call; served again once it recovers',
    async (_name, mode) => {
      const { ask, known, simulator, jwks } = await setup({ AUTH_JWKS_COOLDOWN_MS: '50' }, mode);
      const jwt = await known();
      const refused = await ask(jwt);
      expect(refused).toMatchObject({ status: 503, retryAfter: '5', code: 'AUTH_UNAVAILABLE' });
      expect(refused.json.errors![0]!.message).not.toContain(jwt);
      expect(simulator.stats.requests).toBe(0);
      expect(jwks.state.fetches).toBeGreaterThanOrEqual(1);

      jwks.state.mode = 'ok';
      await expect.poll(async () => (await ask(jwt)).status, { timeout: 5000, interval: 60 }).toBe(200);
      expect((await ask(jwt)).json.data!.uploadActivity!.status).toBe('QUEUED');
    },
  );

  it('a hanging JWKS: 503 AUTH_UNAVAILABLE within the JWKS timeout (2 s), not jose’s 5 s; the next request within the cooldown answers at once', async () => {
    const { ask, known, jwks, simulator } = await setup({ AUTH_JWKS_COOLDOWN_MS: '60000' }, 'hang');
    const jwt = await known();
    const first = await ask(jwt);
    expect(first).toMatchObject({ status: 503, retryAfter: '5', code: 'AUTH_UNAVAILABLE' });
    expect(first.ms).toBeLessThan(4500); // loosely: the fetch timeout is 2 s, the old one 5 s
    const second = await ask(jwt);
    expect(second).toMatchObject({ status: 503, code: 'AUTH_UNAVAILABLE' });
    expect(jwks.state.fetches).toBe(1);
    expect(simulator.stats.requests).toBe(0);
  });

  it('a WebSocket whose JWT key cannot be fetched is closed 1013 (try again later), not 4403', async () => {
    const { app, known, jwks } = await setup({ AUTH_JWKS_COOLDOWN_MS: '50' }, 'error');
    const jwt = await known();
    const closeOf = () =>
      new Promise<{ code: number; reason: string }>((resolve) => {
        connect(app.url, {
          connectionParams: { authorization: `Bearer ${jwt}` },
          lazy: false,
          onNonLazyError: () => undefined,
          on: { closed: (event) => resolve(event as { code: number; reason: string }) },
        });
      });
    const closed = await closeOf();
    expect(closed.code).toBe(1013);
    expect(closed.reason).toMatch(/^Try again later: /);
    expect(closed.reason).not.toContain(jwt);
  });

  it('200 requests with unknown kids during an outage make at most one JWKS fetch per cooldown, each answered AUTH_UNAVAILABLE; a cached key still works', async () => {
    const cooldownMs = 300;
    const { ask, known, unknown, jwks, simulator } = await setup({ AUTH_JWKS_COOLDOWN_MS: String(cooldownMs) });
    const jwt = await known();
    const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => unknown(i)));
    expect((await ask(jwt)).status).toBe(200);
    expect(jwks.state.fetches).toBe(1);
    jwks.state.mode = 'error';
    // Past the cooldown of that good fetch (within it, an unknown kid is just not in the set read).
    await new Promise((resolve) => setTimeout(resolve, cooldownMs + 50));
    const started = performance.now();
    const codes = new Map<string, number>();
    for (let wave = 0; wave < 20; wave += 1) {
      const answers = await Promise.all(tokens.slice(wave * 10, wave * 10 + 10).map((token) => ask(token)));
      for (const answer of answers)
        codes.set(`${answer.status} ${answer.code}`, (codes.get(`${answer.status} ${answer.code}`) ?? 0) + 1);
    }
    const elapsedMs = performance.now() - started;
    expect(Object.fromEntries(codes)).toEqual({ '503 AUTH_UNAVAILABLE': 200 });
    const outageFetches = jwks.state.fetches - 1;
    expect(outageFetches).toBeGreaterThanOrEqual(1);
    expect(outageFetches).toBeLessThanOrEqual(2 + Math.floor(elapsedMs / cooldownMs));
    expect(simulator.stats.requests).toBe(1); // the first, good request's read only
    // The key already cached keeps working through the outage.
    const cached = await ask(jwt);
    expect(cached.status).toBe(200);
    expect(cached.json.data!.uploadActivity!.status).toBe('QUEUED');
  });

  it('keeps verifying with cached keys when the JWKS is down for longer than jose’s cache age (10 min, on a moved clock)', async () => {
    const { ask, known, unknown, jwks } = await setup({ AUTH_JWKS_COOLDOWN_MS: '1000' });
    expect((await ask(await known())).status).toBe(200);
    jwks.state.mode = 'error';
    // Only Date is faked (timers and sockets stay real), and it keeps running.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    onTestFinished(() => void vi.useRealTimers());
    for (const minutes of [11, 30, 120]) {
      vi.setSystemTime(Date.now() + minutes * 60_000);
      const answer = await ask(await known());
      expect({ minutes, status: answer.status, errors: answer.json.errors }).toEqual({
        minutes,
        status: 200,
        errors: undefined,
      });
    }
    // A stale set is refetched (aside) at most once per cooldown: 3 clock moves, 3 attempts at most.
    expect(jwks.state.fetches).toBeLessThanOrEqual(1 + 3);
    // An unknown kid is still the outage's fault, not the caller's.
    expect((await ask(await unknown(1))).code).toBe('AUTH_UNAVAILABLE');
  });

  it('warns once a minute at most while fetches fail, says when the JWKS answers again, and never logs a JWT', async () => {
    const { ask, known, jwks, logs } = await setup({ AUTH_JWKS_COOLDOWN_MS: '20', LOG_LEVEL: 'debug' }, 'error');
    const jwt = await known();
    // Several failed fetches, each after the cooldown: bounded in count and time.
    const deadline = Date.now() + 5000;
    for (let i = 0; i < 50 && jwks.state.fetches < 4 && Date.now() < deadline; i += 1) {
      expect((await ask(jwt)).code).toBe('AUTH_UNAVAILABLE');
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    expect(jwks.state.fetches).toBeGreaterThanOrEqual(4);
    const warnings = jwtLines(logs, WARN);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ jwks: jwks.url, status: 500, keysCached: false });
    expect(jwtLines(logs, INFO)).toHaveLength(0);

    jwks.state.mode = 'ok';
    await expect.poll(async () => (await ask(jwt)).status, { timeout: 5000, interval: 40 }).toBe(200);
    expect(jwtLines(logs, INFO)).toEqual([expect.objectContaining({ msg: 'JWKS answers again', jwks: jwks.url })]);
    expect(jwtLines(logs, WARN)).toHaveLength(1);
    expect(JSON.stringify(logs)).not.toContain(jwt);
    expect(JSON.stringify(logs)).not.toContain(jwt.split('.')[2]!);
  });

  it('a WebSocket is accepted again after the outage (graphql-ws retries 1013)', async () => {
    const { app, known, jwks, activity } = await setup(
      { AUTH_JWKS_COOLDOWN_MS: '50', POLL_INTERVAL_MS: '5000', POLL_MAX_INTERVAL_MS: '5000' },
      'error',
    );
    const jwt = await known();
    const closes: number[] = [];
    const client = connect(app.url, {
      connectionParams: { authorization: `Bearer ${jwt}` },
      retryAttempts: 20,
      retryWait: () => new Promise((resolve) => setTimeout(resolve, 50)),
      on: { closed: (event) => void closes.push((event as { code: number }).code) },
    });
    const sub = record(client, UploadActivityStatusChangedDocument, {
      taxableEntityId: ENTITY,
      activityId: activity.activityId,
    });
    await expect.poll(() => closes.length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    expect(sub.events).toHaveLength(0);
    jwks.state.mode = 'ok';
    await expect.poll(() => sub.events.length, { timeout: 5000 }).toBe(1);
    expect(sub.events[0]!.data!.uploadActivityStatusChanged.status).toBe('QUEUED');
    // Every refusal said "try again later", none "forbidden".
    expect(new Set(closes)).toEqual(new Set([1013]));
  });
});
