import { describe, expect, it } from 'vitest';
import { UploadActivityDocument, UploadActivityStatusChangedDocument } from '../../schema/generated/graphql.js';
import { HS_SECRET, hsKey, rsaKey, sign, startJwks } from '../helpers/jwt.js';
import { ENTITY, startStack } from '../helpers/stack.js';
import { connect, record } from '../helpers/ws-client.js';

const OTHER_ENTITY = '99999999-2222-4333-8444-555555555555';
const SERVER_TOKEN = 'server-cleartax-token';
const jwtEnv = (extra: Record<string, string> = {}) => ({
  AUTH_MODE: 'jwt',
  CLEARTAX_AUTH_TOKEN: SERVER_TOKEN,
  AUTH_JWT_SECRET: HS_SECRET,
  ...extra,
});
const claims = (extra: Record<string, unknown> = {}) => ({ sub: 'user-1', taxable_entity_ids: [ENTITY], ...extra });
const now = () => Math.floor(Date.now() / 1000);

describe('AUTH_MODE=jwt over HTTP', () => {
  it('reads with the server token for a valid JWT; a ClearTax token the caller sends is never forwarded', async () => {
    const { simulator, query } = await startStack(jwtEnv());
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 2 });
    simulator.setTokenStatus('callers-own-token', 403);
    const jwt = await sign(claims(), hsKey(), 'HS256');
    const result = await query(
      UploadActivityDocument,
      { taxableEntityId: ENTITY, activityId: a.activityId },
      { token: 'callers-own-token', headers: { authorization: `Bearer ${jwt}` } },
    );
    expect(result.data!.uploadActivity).toMatchObject({ status: 'QUEUED', queuedCount: 2 });
  });

  it('answers FORBIDDEN for an entity outside the claim, with no upstream call; "*" reads any', async () => {
    const { simulator, query } = await startStack(jwtEnv());
    const a = simulator.createActivity({ taxableEntityId: OTHER_ENTITY, status: 'UPLOADED' });
    const limited = await sign(claims(), hsKey(), 'HS256');
    const denied = await query(
      UploadActivityDocument,
      { taxableEntityId: OTHER_ENTITY, activityId: a.activityId },
      { token: null, headers: { authorization: `Bearer ${limited}` } },
    );
    expect(denied.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(simulator.stats.requests).toBe(0);
    const any = await sign(claims({ taxable_entity_ids: '*' }), hsKey(), 'HS256');
    const allowed = await query(
      UploadActivityDocument,
      { taxableEntityId: OTHER_ENTITY, activityId: a.activityId },
      { token: null, headers: { authorization: `Bearer ${any}` } },
    );
    expect(allowed.data!.uploadActivity!.status).toBe('UPLOADED');
  });

  it('keeps the allowed half of a mixed-entity operation: each forbidden item is null with its own FORBIDDEN, and never read', async () => {
    const { simulator, raw } = await startStack(jwtEnv());
    const [a, b] = [0, 1].map(
      () => simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 4 }).activityId,
    );
    const [c, d] = [0, 1].map(
      () => simulator.createActivity({ taxableEntityId: OTHER_ENTITY, status: 'QUEUED' }).activityId,
    );
    const jwt = await sign(claims(), hsKey(), 'HS256');
    const query = `query Mixed($e: UUID!, $f: UUID!, $ok: [UUID!]!, $no: [UUID!]!, $a: UUID!, $c: UUID!) {
      ok: uploadActivities(taxableEntityId: $e, activityIds: $ok) { activityId status }
      no: uploadActivities(taxableEntityId: $f, activityIds: $no) { activityId status }
      one: uploadActivity(taxableEntityId: $e, activityId: $a) { activityId status }
      other: uploadActivity(taxableEntityId: $f, activityId: $c) { activityId status }
    }`;
    const { status, json } = await raw(
      { query, variables: { e: ENTITY, f: OTHER_ENTITY, ok: [a, b], no: [c, d], a, c } },
      { authorization: `Bearer ${jwt}` },
    );
    expect(status).toBe(200);
    expect(json.data).toEqual({
      ok: [
        { activityId: a, status: 'QUEUED' },
        { activityId: b, status: 'QUEUED' },
      ],
      no: [null, null],
      one: { activityId: a, status: 'QUEUED' },
      other: null,
    });
    const errors = json.errors!.map((error) => ({ path: error.path, code: error.extensions?.code }));
    expect(errors).toHaveLength(3);
    expect(errors).toEqual(
      expect.arrayContaining([
        { path: ['no', 0], code: 'FORBIDDEN' },
        { path: ['no', 1], code: 'FORBIDDEN' },
        { path: ['other'], code: 'FORBIDDEN' },
      ]),
    );
    // a and b only: nothing of the forbidden entity reached upstream.
    expect(simulator.stats.requests).toBe(2);
  });

  /** Valid for the configuration below in every respect but the one a case breaks. */
  const valid = (extra: Record<string, unknown> = {}) =>
    claims({ iss: 'https://idp.example', aud: 'gateway', ...extra });
  it.each([
    ['no JWT at all', async () => undefined],
    ['garbage', async () => 'not.a.jwt'],
    [
      'a wrong key',
      async () => sign(valid(), new TextEncoder().encode('another-secret-that-is-also-long-enough!!'), 'HS256'),
    ],
    [
      'alg none',
      async () =>
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...valid(), exp: now() + 3600 })).toString('base64url')}.`,
    ],
    ['an expired one (beyond the 30 s tolerance)', async () => sign(valid({ exp: now() - 60 }), hsKey(), 'HS256')],
    ['one not yet valid (nbf beyond the tolerance)', async () => sign(valid({ nbf: now() + 120 }), hsKey(), 'HS256')],
    ['a wrong issuer', async () => sign(valid({ iss: 'https://evil.example' }), hsKey(), 'HS256')],
    ['a wrong audience', async () => sign(valid({ aud: 'someone-else' }), hsKey(), 'HS256')],
    ['no exp', async () => sign(valid(), hsKey(), 'HS256', undefined, { omitExp: true })],
    [
      'no entities claim',
      async () => sign({ sub: 'user-1', iss: 'https://idp.example', aud: 'gateway' }, hsKey(), 'HS256'),
    ],
  ])('rejects %s with UNAUTHENTICATED and no upstream call', async (_name, make) => {
    const { simulator, query } = await startStack(
      jwtEnv({ AUTH_JWT_ISSUER: 'https://idp.example', AUTH_JWT_AUDIENCE: 'gateway' }),
    );
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    const jwt = await make();
    const result = await query(
      UploadActivityDocument,
      { taxableEntityId: ENTITY, activityId: a.activityId },
      { token: null, headers: jwt ? { authorization: `Bearer ${jwt}` } : {} },
    );
    expect(result.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(simulator.stats.requests).toBe(0);
    // And the right JWT for this configuration passes.
    const ok = await query(
      UploadActivityDocument,
      { taxableEntityId: ENTITY, activityId: a.activityId },
      { token: null, headers: { authorization: `Bearer ${await sign(valid(), hsKey(), 'HS256')}` } },
    );
    expect(ok.errors).toBeUndefined();
  });

  it('refuses HS/RS confusion: an HS256 token signed with the RSA public key is not an RS256 token', async () => {
    const key = await rsaKey('k1');
    const { simulator, query } = await startStack({
      AUTH_MODE: 'jwt',
      CLEARTAX_AUTH_TOKEN: SERVER_TOKEN,
      AUTH_JWT_PUBLIC_KEY: key.pem,
    });
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    const confused = await sign(claims(), new TextEncoder().encode(key.pem), 'HS256');
    const refused = await query(
      UploadActivityDocument,
      { taxableEntityId: ENTITY, activityId: a.activityId },
      { token: null, headers: { authorization: `Bearer ${confused}` } },
    );
    expect(refused.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    const proper = await sign(claims(), key.privateKey, 'RS256');
    const ok = await query(
      UploadActivityDocument,
      { taxableEntityId: ENTITY, activityId: a.activityId },
      { token: null, headers: { authorization: `Bearer ${proper}` } },
    );
    expect(ok.errors).toBeUndefined();
    expect(simulator.stats.requests).toBe(1);
  });

  it('follows a key rotation through the JWKS: an unknown kid refetches it', async () => {
    const [k1, k2] = await Promise.all([rsaKey('k1'), rsaKey('k2')]);
    const jwks = await startJwks([k1.jwk]);
    const { simulator, query } = await startStack({
      AUTH_MODE: 'jwt',
      CLEARTAX_AUTH_TOKEN: SERVER_TOKEN,
      AUTH_JWKS_URL: jwks.url,
      AUTH_JWKS_COOLDOWN_MS: '0',
    });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED' });
    const ask = async (jwt: string) =>
      query(
        UploadActivityDocument,
        { taxableEntityId: ENTITY, activityId: a.activityId },
        { token: null, headers: { authorization: `Bearer ${jwt}` } },
      );
    expect((await ask(await sign(claims(), k1.privateKey, 'RS256', 'k1'))).errors).toBeUndefined();
    jwks.state.keys = [k2.jwk];
    expect((await ask(await sign(claims(), k2.privateKey, 'RS256', 'k2'))).errors).toBeUndefined();
    expect(jwks.state.fetches).toBe(2);
    // A retired key fails once the new set is in.
    expect((await ask(await sign(claims(), k1.privateKey, 'RS256', 'k1'))).errors![0]!.extensions!.code).toBe(
      'UNAUTHENTICATED',
    );
  });

  it('shares reads across users: two users on one activity make one upstream read', async () => {
    const { simulator, query, app } = await startStack(jwtEnv());
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSING' });
    const [alice, bob] = await Promise.all([
      sign(claims({ sub: 'alice' }), hsKey(), 'HS256'),
      sign(claims({ sub: 'bob' }), hsKey(), 'HS256'),
    ]);
    const release = simulator.hold();
    const reads = [alice, bob].map((jwt) =>
      query(
        UploadActivityDocument,
        { taxableEntityId: ENTITY, activityId: a.activityId },
        { token: null, headers: { authorization: `Bearer ${jwt}` } },
      ),
    );
    await expect.poll(() => app.source.stats.upstream + app.source.stats.coalesced).toBe(2);
    release();
    const results = await Promise.all(reads);
    expect(results.map((r) => r.data?.uploadActivity?.status)).toEqual(['PROCESSING', 'PROCESSING']);
    expect(simulator.stats.requests).toBe(1);
  });
});

describe('AUTH_MODE=jwt over WebSocket', () => {
  it('takes the JWT from connectionParams.authorization or .token, and shares one poller across users', async () => {
    const { simulator, app } = await startStack({
      ...jwtEnv(),
      POLL_INTERVAL_MS: '5000',
      POLL_MAX_INTERVAL_MS: '5000',
    });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 1, isAuto: false });
    const [alice, bob] = await Promise.all([
      sign(claims({ sub: 'alice' }), hsKey(), 'HS256'),
      sign(claims({ sub: 'bob' }), hsKey(), 'HS256'),
    ]);
    const subs = [
      record(
        connect(app.url, { connectionParams: { authorization: `Bearer ${alice}` } }),
        UploadActivityStatusChangedDocument,
        { taxableEntityId: ENTITY, activityId: a.activityId },
      ),
      record(connect(app.url, { connectionParams: { token: bob } }), UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: a.activityId,
      }),
    ];
    await expect.poll(() => subs.every((s) => s.events.length === 1)).toBe(true);
    expect(app.watcher.size).toEqual({ keys: 1, subscriptions: 2 });
    expect(simulator.stats.requests).toBe(1);
  });

  it('refuses a connection without a valid JWT with 4403, and closes it with 4403 when the JWT expires', async () => {
    const { app } = await startStack(jwtEnv());
    const closeOf = (connectionParams: Record<string, unknown>) =>
      new Promise<{ code: number; reason: string }>((resolve) => {
        connect(app.url, {
          connectionParams,
          lazy: false,
          onNonLazyError: () => undefined,
          on: { closed: (event) => resolve(event as { code: number; reason: string }) },
        });
      });
    expect(await closeOf({})).toEqual(
      expect.objectContaining({ code: 4403, reason: 'Forbidden: No JWT: send Authorization: Bearer <jwt>' }),
    );
    expect(await closeOf({ token: 'garbage' })).toEqual(
      expect.objectContaining({ code: 4403, reason: 'Forbidden: The JWT is not valid' }),
    );
    // Expired 29 s ago: still inside the 30 s tolerance, so accepted, and closed when the tolerance runs out.
    const shortLived = await sign(claims({ exp: now() - 29 }), hsKey(), 'HS256');
    const closed = await closeOf({ token: shortLived });
    expect(closed).toEqual(expect.objectContaining({ code: 4403, reason: 'Forbidden: token expired' }));
  });
});
