import { describe, expect, it } from 'vitest';
import { getIntrospectionQuery } from 'graphql';
import { UploadActivityDocument, UploadActivityStatusChangedDocument } from '../../schema/generated/graphql.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { HS_SECRET, hsKey, sign } from '../helpers/jwt.js';
import { ENTITY, TOKEN, startStack } from '../helpers/stack.js';
import { connect, record, upgradeStatus } from '../helpers/ws-client.js';

const APP_ORIGIN = 'https://board.example.com';

describe('CORS and the WebSocket origin check', () => {
  it("answers a listed origin's preflight with 204 and the contract's headers; an unlisted one gets no CORS header at all", async () => {
    const { app } = await startStack({ CORS_ORIGINS: APP_ORIGIN });
    const preflight = (origin: string) =>
      fetch(app.url, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,authorization',
        },
      });
    const allowed = await preflight(APP_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(allowed.headers.get('access-control-allow-methods')).toBe('GET,POST,OPTIONS');
    expect(allowed.headers.get('access-control-allow-headers')).toBe(
      'content-type,authorization,x-cleartax-auth-token,apollo-require-preflight,x-apollo-operation-name',
    );
    expect(allowed.headers.get('access-control-max-age')).toBe('600');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    const refused = await preflight('https://evil.example');
    const names: string[] = [];
    refused.headers.forEach((_value, name) => names.push(name));
    expect(names.filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  it('lets a listed origin POST (CSRF prevention stays on for the rest)', async () => {
    const { app, simulator } = await startStack({ CORS_ORIGINS: APP_ORIGIN });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED' });
    const response = await fetch(app.url, {
      method: 'POST',
      headers: { origin: APP_ORIGIN, 'content-type': 'application/json', 'X-Cleartax-Auth-Token': TOKEN },
      body: JSON.stringify({
        query: `{ uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${a.activityId}") { status } }`,
      }),
    });
    expect(response.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(await response.json()).toEqual({ data: { uploadActivity: { status: 'PROCESSED' } } });
    const simple = await fetch(`${app.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { origin: APP_ORIGIN },
    });
    expect(simple.status).toBe(400);
  });

  it('refuses a WebSocket upgrade from a foreign Origin with 403; accepts its own origin, a listed one and none', async () => {
    const { app } = await startStack({ CORS_ORIGINS: APP_ORIGIN });
    const host = new URL(app.url).host;
    expect(await upgradeStatus(app.url, { origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(app.url, { origin: `http://${host}` })).toBe(101);
    expect(await upgradeStatus(app.url, { origin: APP_ORIGIN })).toBe(101);
    expect(await upgradeStatus(app.url, {})).toBe(101);
  });

  it('logs a refused browser origin once per origin per minute at info, naming CORS_ORIGINS; its own and listed origins are never logged', async () => {
    const { app, logs } = await startStack({ CORS_ORIGINS: APP_ORIGIN, LOG_LEVEL: 'info' });
    const host = new URL(app.url).host;
    const refusals = () => logs.filter((line) => String(line.msg).startsWith('browser origin refused'));
    const preflight = (origin: string) =>
      fetch(app.url, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    for (let i = 0; i < 3; i++) await preflight('https://other-app.example');
    for (let i = 0; i < 3; i++) expect(await upgradeStatus(app.url, { origin: 'https://evil.example' })).toBe(403);
    await preflight(APP_ORIGIN);
    await fetch(app.url, {
      method: 'POST',
      headers: { origin: `http://${host}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(await upgradeStatus(app.url, { origin: `http://${host}` })).toBe(101);
    expect(refusals()).toEqual([
      expect.objectContaining({
        level: 30,
        origin: 'https://other-app.example',
        transport: 'http',
        msg: expect.stringContaining('CORS_ORIGINS'),
      }),
      expect.objectContaining({
        level: 30,
        origin: 'https://evil.example',
        transport: 'ws',
        msg: expect.stringContaining('CORS_ORIGINS'),
      }),
    ]);
  });

  it('takes the own origin from X-Forwarded-Host only with TRUST_PROXY=true', async () => {
    const untrusted = await startStack({});
    expect(
      await upgradeStatus(untrusted.app.url, {
        origin: 'https://gateway.example',
        'x-forwarded-host': 'gateway.example',
      }),
    ).toBe(403);
    const trusted = await startStack({ TRUST_PROXY: 'true' });
    expect(
      await upgradeStatus(trusted.app.url, {
        origin: 'https://gateway.example',
        'x-forwarded-host': 'gateway.example',
      }),
    ).toBe(101);
  });
});

describe('operation limits, the same on HTTP and WebSocket', () => {
  const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: __typename`).join(' ')} }`;
  const deep = (n: number) =>
    `{ __schema { ${'types { fields { type { '.repeat(Math.ceil(n / 3))} name ${'} } } '.repeat(Math.ceil(n / 3))} } }`;

  it('takes 30 aliases and refuses 31 with a validation error; no upstream call', async () => {
    const { raw, app, simulator } = await startStack();
    expect((await raw({ query: aliases(30) })).json.errors).toBeUndefined();
    const refused = await raw({ query: aliases(31) });
    expect(refused.status).toBe(400);
    expect(refused.json.errors![0]).toMatchObject({
      message: 'Aliases limit of 30 exceeded, found 31.',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    const overWs = await new Promise<unknown>((resolve) =>
      connect(app.url).subscribe(
        { query: aliases(31) },
        { next: () => undefined, error: resolve, complete: () => resolve('complete') },
      ),
    );
    expect(overWs).toEqual([
      expect.objectContaining({
        message: 'Aliases limit of 30 exceeded, found 31.',
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      }),
    ]);
    expect(simulator.stats.requests).toBe(0);
  });

  it('measures depth as the contract does: the introspection query (15) passes, 16 fails', async () => {
    const { raw } = await startStack();
    expect((await raw({ query: getIntrospectionQuery() })).json.errors).toBeUndefined();
    const fifteen = await startStack({ MAX_QUERY_DEPTH: '14' });
    expect((await fifteen.raw({ query: getIntrospectionQuery() })).json.errors![0]).toMatchObject({
      message: 'Query depth limit of 14 exceeded, found 15.',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    const tooDeep = await raw({ query: deep(18) });
    expect(tooDeep.json.errors![0]).toMatchObject({
      message: expect.stringMatching(/^Query depth limit of 15 exceeded, found \d+\.$/),
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
  });

  it('counts ids per operation over all fields and aliases, after variables are coerced', async () => {
    const { raw, simulator, app } = await startStack({ MAX_OPERATION_IDS: '5' });
    const ids = Array.from(
      { length: 6 },
      () => simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED' }).activityId,
    );
    const query = `query($e: UUID!, $ids: [UUID!]!, $one: UUID!) { list: uploadActivities(taxableEntityId: $e, activityIds: $ids) { status } one: uploadActivity(taxableEntityId: $e, activityId: $one) { status } }`;
    const ok = await raw(
      { query, variables: { e: ENTITY, ids: ids.slice(0, 4), one: ids[5] } },
      { 'X-Cleartax-Auth-Token': TOKEN },
    );
    expect(ok.json.errors).toBeUndefined();
    const refused = await raw(
      { query, variables: { e: ENTITY, ids: ids.slice(0, 5), one: ids[5] } },
      { 'X-Cleartax-Auth-Token': TOKEN },
    );
    expect(refused.status).toBe(400);
    expect(refused.json.errors![0]).toMatchObject({
      message: 'An operation may ask for at most 5 activity ids over all its fields, got 6',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(simulator.stats.requests).toBe(5);
    const sub = record(connect(app.url), UploadActivityStatusChangedDocument, {
      taxableEntityId: ENTITY,
      activityId: ids[0]!,
    });
    await sub.done;
    expect(sub.events.map((e) => e.data?.uploadActivityStatusChanged.status)).toEqual(['PROCESSED']);
  });
});

describe('per-caller rate limit (RATE_LIMIT_PER_MINUTE, in activity reads)', () => {
  it('answers 429 with Retry-After and RATE_LIMITED past the limit; another caller is unaffected', async () => {
    const { simulator, raw } = await startStack({ RATE_LIMIT_PER_MINUTE: '5' });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED' });
    const body = {
      query: `{ uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${a.activityId}") { status } }`,
    };
    for (let i = 0; i < 5; i++)
      expect((await raw(body, { 'X-Cleartax-Auth-Token': 'caller-a' })).json.errors).toBeUndefined();
    const over = await raw(body, { 'X-Cleartax-Auth-Token': 'caller-a' });
    expect(over.status).toBe(429);
    expect(over.json.errors![0]).toMatchObject({
      extensions: { code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) },
    });
    expect(JSON.stringify(over.json)).not.toContain('"http"');
    expect((await raw(body, { 'X-Cleartax-Auth-Token': 'caller-b' })).json.errors).toBeUndefined();
  });

  it('sends Retry-After on HTTP, and refuses a subscription over the limit on WebSocket', async () => {
    const { simulator, app } = await startStack({ RATE_LIMIT_PER_MINUTE: '1' });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED' });
    const post = () =>
      fetch(app.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-Cleartax-Auth-Token': 'caller-a' },
        body: JSON.stringify({
          query: `{ uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${a.activityId}") { status } }`,
        }),
      });
    expect((await post()).status).toBe(200);
    const over = await post();
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    const sub = record(
      connect(app.url, { connectionParams: { authToken: 'caller-a' } }),
      UploadActivityStatusChangedDocument,
      { taxableEntityId: ENTITY, activityId: a.activityId },
    );
    const refusal = await sub.done.then(
      () => undefined,
      (errors: unknown) => errors,
    );
    expect(refusal).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED' }) }),
    ]);
  });
});

describe('open mode, and the embedded simulator default', () => {
  it('reads with the server token and no header at all; a client token is not needed', async () => {
    const { simulator, query } = await startStack({ AUTH_MODE: 'open', CLEARTAX_AUTH_TOKEN: 'server-token' });
    simulator.setTokenStatus(TOKEN, 403);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'UPLOADED' });
    const result = await query(
      UploadActivityDocument,
      { taxableEntityId: ENTITY, activityId: a.activityId },
      { token: null },
    );
    expect(result.data!.uploadActivity!.status).toBe('UPLOADED');
  });

  it('is open with a demo token when the embedded simulator runs and AUTH_MODE is unset', async () => {
    const { query, simulator, logs } = await startStack({ AUTH_MODE: '', LOG_LEVEL: 'warn' });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 3 });
    const result = await query(
      UploadActivityDocument,
      { taxableEntityId: ENTITY, activityId: a.activityId },
      { token: null },
    );
    expect(result.data!.uploadActivity!.queuedCount).toBe(3);
    expect(logs).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringContaining('AUTH_MODE=open') }));
  });
});

describe('edge defects', () => {
  it('answers a subscription sent over plain HTTP (no streaming Accept) with 406 naming the streaming media types', async () => {
    const { raw } = await startStack();
    const response = await raw(
      {
        query: `subscription { uploadActivityStatusChanged(taxableEntityId: "${ENTITY}", activityId: "${ENTITY}") { status } }`,
      },
      { 'X-Cleartax-Auth-Token': TOKEN },
    );
    expect(response.status).toBe(406);
    expect(response.json.errors![0]).toMatchObject({
      message: expect.stringMatching(/multipart\/mixed;boundary=graphql;subscriptionSpec=1\.0.*text\/event-stream/),
      extensions: { code: 'BAD_REQUEST' },
    });
  });

  it('logs client mistakes at debug with their own code, not as internal errors', async () => {
    const { raw, logs } = await startStack({ LOG_LEVEL: 'debug' });
    await raw(
      {
        query: 'query($a: UUID!) { uploadActivity(taxableEntityId: $a, activityId: $a) { status } }',
        variables: { a: 'nope' },
      },
      { 'X-Cleartax-Auth-Token': TOKEN },
    );
    await raw({ query: '{ nope }' }, { 'X-Cleartax-Auth-Token': TOKEN });
    const operationLines = logs.filter((line) => line.transport === 'http' && line.access !== true);
    expect(operationLines.map((line) => [line.level, line.code])).toEqual([
      [20, 'BAD_USER_INPUT'],
      [20, 'GRAPHQL_VALIDATION_FAILED'],
    ]);
  });
});

describe('secrets never reach logs', () => {
  it('keeps ClearTax tokens, JWTs and the HS256 secret out of every log line, at debug, on every auth path', async () => {
    const secrets = { cleartax: 'cleartax-secret-token-9f8e7d', other: 'another-secret-token-1a2b3c' };
    const passthrough = await startStack({ LOG_LEVEL: 'debug' });
    passthrough.simulator.setTokenStatus(secrets.other, 401);
    const a = passthrough.simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 1 });
    for (const token of [secrets.cleartax, secrets.other, 'bad\u00e9token']) {
      await passthrough.raw(
        { query: `{ uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${a.activityId}") { status } }` },
        { 'X-Cleartax-Auth-Token': token },
      );
    }
    const sub = record(
      connect(passthrough.app.url, { connectionParams: { authToken: secrets.other } }),
      UploadActivityStatusChangedDocument,
      { taxableEntityId: ENTITY, activityId: a.activityId },
    );
    await sub.done.catch(() => undefined);

    const jwtStack = await startStack({
      LOG_LEVEL: 'debug',
      AUTH_MODE: 'jwt',
      AUTH_JWT_SECRET: HS_SECRET,
      CLEARTAX_AUTH_TOKEN: secrets.cleartax,
    });
    const good = await sign({ sub: 'u', taxable_entity_ids: [ENTITY] }, hsKey(), 'HS256');
    const expired = await sign(
      { sub: 'u', taxable_entity_ids: [ENTITY], exp: Math.floor(Date.now() / 1000) - 120 },
      hsKey(),
      'HS256',
    );
    for (const jwt of [good, expired, 'garbage.jwt.value']) {
      await jwtStack.raw(
        { query: `{ uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${a.activityId}") { status } }` },
        { authorization: `Bearer ${jwt}` },
      );
    }
    const wsRefused = new Promise<void>((resolve) => {
      connect(jwtStack.app.url, {
        connectionParams: { token: expired },
        lazy: false,
        onNonLazyError: () => undefined,
        on: { closed: () => resolve() },
      });
    });
    await wsRefused;

    const written = JSON.stringify([...passthrough.logs, ...jwtStack.logs]);
    expect(passthrough.logs.length + jwtStack.logs.length).toBeGreaterThan(5);
    for (const secret of [secrets.cleartax, secrets.other, good, expired, good.split('.')[2]!, HS_SECRET])
      expect(written).not.toContain(secret);
  });
});

describe('access configuration errors name their variable', () => {
  it.each([
    [{ AUTH_MODE: 'sso' }, 'AUTH_MODE must be passthrough, jwt or open, got "sso"'],
    [
      { AUTH_MODE: 'jwt', CLEARTAX_AUTH_TOKEN: 't' },
      'AUTH_MODE=jwt needs exactly one of AUTH_JWKS_URL, AUTH_JWT_PUBLIC_KEY, AUTH_JWT_SECRET, got 0',
    ],
    [
      {
        AUTH_MODE: 'jwt',
        CLEARTAX_AUTH_TOKEN: 't',
        AUTH_JWT_SECRET: HS_SECRET,
        AUTH_JWKS_URL: 'https://idp.example/jwks',
      },
      'got 2',
    ],
    [
      { AUTH_MODE: 'jwt', AUTH_JWT_SECRET: HS_SECRET, CLEARTAX_BASE_URL: 'https://ewb.cleartax.in/api' },
      'CLEARTAX_AUTH_TOKEN must be set with AUTH_MODE=jwt',
    ],
    [
      { AUTH_MODE: 'open', CLEARTAX_BASE_URL: 'https://ewb.cleartax.in/api' },
      'CLEARTAX_AUTH_TOKEN must be set with AUTH_MODE=open',
    ],
    [{ AUTH_JWT_SECRET: 'short' }, 'AUTH_JWT_SECRET must be at least 32 characters'],
    [{ AUTH_JWT_SECRET: HS_SECRET }, 'need AUTH_MODE=jwt'],
    [{ CORS_ORIGINS: 'board.example.com' }, 'CORS_ORIGINS must be * or comma-separated origins'],
    [{ RATE_LIMIT_PER_MINUTE: 'lots' }, 'RATE_LIMIT_PER_MINUTE must be a whole number'],
    [{ MAX_ALIASES: '-3' }, 'MAX_ALIASES must be a whole number'],
  ])('%j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never echoes the HS256 secret', () => {
    expect(() => loadConfig({ AUTH_JWT_SECRET: 'short-secret' })).toThrow(
      /^AUTH_JWT_SECRET must be at least 32 characters$/,
    );
  });
});
