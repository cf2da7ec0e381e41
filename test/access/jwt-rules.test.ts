import { describe, expect, it } from 'vitest';
import { UploadActivityDocument, UploadActivityStatusChangedDocument } from '../../schema/generated/graphql.js';
import { HS_SECRET, hsKey, sign } from '../helpers/jwt.js';
import { ENTITY, startStack } from '../helpers/stack.js';
import { connect, record } from '../helpers/ws-client.js';

/** One rule for HTTP and WebSocket: the clock tolerance, where the JWT is found, what `sub` may be. */

const jwtEnv = {
  AUTH_MODE: 'jwt',
  CLEARTAX_AUTH_TOKEN: 'server-cleartax-token',
  AUTH_JWT_SECRET: HS_SECRET,
  POLL_INTERVAL_MS: '5000',
  POLL_MAX_INTERVAL_MS: '5000',
};
const claims = (extra: Record<string, unknown> = {}) => ({ sub: 'user-1', taxable_entity_ids: [ENTITY], ...extra });
const now = () => Math.floor(Date.now() / 1000);
type Close = { code: number; reason: string };

async function setup() {
  const stack = await startStack(jwtEnv);
  const activity = stack.simulator.createActivity({
    taxableEntityId: ENTITY,
    status: 'QUEUED',
    queuedCount: 1,
    isAuto: false,
  });
  const httpAsk = (jwt: string) =>
    stack.query(
      UploadActivityDocument,
      { taxableEntityId: ENTITY, activityId: activity.activityId },
      { token: null, headers: { authorization: `Bearer ${jwt}` } },
    );
  /** A real graphql-ws client subscribed to the activity; records its events and the socket's close. */
  const subscribe = (connectionParams: Record<string, unknown>) => {
    let closed: Close | undefined;
    const client = connect(stack.app.url, {
      connectionParams,
      on: { closed: (event) => void (closed = event as Close) },
    });
    const sub = record(client, UploadActivityStatusChangedDocument, {
      taxableEntityId: ENTITY,
      activityId: activity.activityId,
    });
    return {
      sub,
      get closed() {
        return closed;
      },
    };
  };
  /** The close a non-lazy connection meets at connection_init. */
  const closeOf = (connectionParams: Record<string, unknown>) =>
    new Promise<Close>((resolve) => {
      connect(stack.app.url, {
        connectionParams,
        lazy: false,
        onNonLazyError: () => undefined,
        on: { closed: (event) => resolve(event as Close) },
      });
    });
  return { ...stack, activity, httpAsk, subscribe, closeOf };
}

describe('JWT rules shared by HTTP and WebSocket', () => {
  it('a JWT expired but inside the 30 s tolerance: served on HTTP, and a socket stays open until HTTP would refuse it, then closes 4403', async () => {
    const { httpAsk, subscribe } = await setup();
    // Expired 27 s ago: HTTP accepts it for 3 more seconds (at most).
    const jwt = await sign(claims({ exp: now() - 27 }), hsKey(), 'HS256');
    expect((await httpAsk(jwt)).errors).toBeUndefined();
    const ws = subscribe({ authorization: `Bearer ${jwt}` });
    await expect.poll(() => ws.sub.events.length, { timeout: 2000 }).toBe(1);
    expect(ws.closed).toBeUndefined();
    await expect.poll(() => ws.closed, { timeout: 6000, interval: 50 }).toBeDefined();
    expect(ws.closed).toEqual(expect.objectContaining({ code: 4403, reason: 'Forbidden: token expired' }));
    // Closed when HTTP starts refusing the same JWT: one rule on both.
    const refused = await httpAsk(jwt);
    expect(refused.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(refused.errors![0]!.message).toBe('The JWT has expired');
  });

  it('takes the JWT from connectionParams Authorization in any case, and from token bare or as "Bearer <jwt>"', async () => {
    const { subscribe, closeOf, simulator } = await setup();
    const jwt = await sign(claims(), hsKey(), 'HS256');
    const variants: Record<string, unknown>[] = [
      { authorization: `Bearer ${jwt}` },
      { Authorization: `Bearer ${jwt}` },
      { AUTHORIZATION: `bearer ${jwt}` },
      { token: jwt },
      { token: `Bearer ${jwt}` },
    ];
    const subs = variants.map((params) => subscribe(params));
    await expect.poll(() => subs.map((s) => s.sub.events.length), { timeout: 5000 }).toEqual(variants.map(() => 1));
    expect(subs.map((s) => s.sub.events[0]!.data?.uploadActivityStatusChanged.status)).toEqual(
      variants.map(() => 'QUEUED'),
    );
    expect(subs.map((s) => s.closed)).toEqual(variants.map(() => undefined));
    expect(simulator.stats.requests).toBe(1);
    // Each key is read (a bad JWT under it is "not valid", not "no JWT").
    for (const params of [
      { Authorization: 'Bearer not.a.jwt' },
      { AUTHORIZATION: 'Bearer not.a.jwt' },
      { token: 'Bearer not.a.jwt' },
    ]) {
      expect({ params, close: await closeOf(params) }).toEqual({
        params,
        close: expect.objectContaining({ code: 4403, reason: 'Forbidden: The JWT is not valid' }),
      });
    }
  });

  it.each([
    ['a number', 12345],
    ['an object', { id: 'user-1' }],
    ['an array', ['user-1']],
    ['true', true],
  ])(
    'refuses a JWT whose sub is %s (UNAUTHENTICATED, no upstream call, 4403), never a made-up caller id',
    async (_name, sub) => {
      const { httpAsk, closeOf, simulator } = await setup();
      const jwt = await sign(claims({ sub }), hsKey(), 'HS256');
      const refused = await httpAsk(jwt);
      expect(refused.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
      expect(refused.data?.uploadActivity ?? null).toBeNull();
      expect(simulator.stats.requests).toBe(0);
      expect(await closeOf({ token: jwt })).toEqual(expect.objectContaining({ code: 4403 }));
      // The same JWT with a string sub is served.
      expect((await httpAsk(await sign(claims({ sub: String(sub) }), hsKey(), 'HS256'))).errors).toBeUndefined();
    },
  );
});
