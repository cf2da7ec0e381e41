import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { UploadActivityDocument, UploadActivityStatusChangedDocument } from '../../schema/generated/graphql.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { ENTITY, startStack } from '../helpers/stack.js';
import { connect, record } from '../helpers/ws-client.js';

const ACTIVITY = '22222222-3333-4444-8555-666666666666';
const REAL = 'the-one-real-token';

/** ClearTax as it treats tokens: only REAL is accepted, every other token gets 401. */
async function strictUpstream() {
  return startFakeUpstream((req, res) => {
    if (req.headers['x-cleartax-auth-token'] !== REAL) {
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end('{"errors":{"err_1":{"code":"401","message":"Unauthorized"}}}');
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ activityId: ACTIVITY, status: 'QUEUED', errorMessage: null, queuedCount: 2 }));
  });
}

const statusReads = (requests: { url: string }[]) => requests.filter((r) => r.url.includes('/upload_activity/')).length;

describe('passthrough: invented tokens cannot reach ClearTax at will', () => {
  it('answers a token ClearTax refused at the edge for a while, with no further upstream call', async () => {
    const upstream = await strictUpstream();
    const { query } = await startStack({ CLEARTAX_BASE_URL: upstream.url });
    const first = await query(
      UploadActivityDocument,
      { taxableEntityId: ENTITY, activityId: ACTIVITY },
      { token: 'made-up-token' },
    );
    expect(first.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(statusReads(upstream.requests)).toBe(1);
    for (let i = 0; i < 5; i++) {
      const again = await query(
        UploadActivityDocument,
        { taxableEntityId: ENTITY, activityId: ACTIVITY },
        { token: 'made-up-token' },
      );
      expect(again.errors![0]).toMatchObject({
        extensions: { code: 'UNAUTHENTICATED' },
        message: expect.stringContaining('refused this token'),
      });
    }
    expect(statusReads(upstream.requests)).toBe(1);
    expect(JSON.stringify(first)).not.toContain('made-up-token');
  });

  it('lets one address present at most MAX_NEW_TOKENS_PER_ADDRESS unaccepted tokens a minute; another address with a real token is unaffected', async () => {
    const upstream = await strictUpstream();
    const { query } = await startStack({
      CLEARTAX_BASE_URL: upstream.url,
      TRUST_PROXY: 'true',
      MAX_NEW_TOKENS_PER_ADDRESS: '10',
    });
    const attacker = { 'x-forwarded-for': '203.0.113.66' };
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        query(
          UploadActivityDocument,
          { taxableEntityId: ENTITY, activityId: ACTIVITY },
          { token: `invented-${i}`, headers: attacker },
        ),
      ),
    );
    const codes = answers.map((answer) => answer.errors?.[0]?.extensions?.code);
    expect(codes.filter((code) => code === 'RATE_LIMITED').length).toBeGreaterThanOrEqual(190);
    expect(codes.every((code) => code === 'RATE_LIMITED' || code === 'UNAUTHENTICATED')).toBe(true);
    expect(statusReads(upstream.requests)).toBeLessThanOrEqual(10);
    const victim = await query(
      UploadActivityDocument,
      { taxableEntityId: ENTITY, activityId: ACTIVITY },
      { token: REAL, headers: { 'x-forwarded-for': '198.51.100.4' } },
    );
    expect(victim.data!.uploadActivity).toMatchObject({ status: 'QUEUED' });
    // A token ClearTax accepted is welcome from the busy address too.
    const sameAddress = await query(
      UploadActivityDocument,
      { taxableEntityId: ENTITY, activityId: ACTIVITY },
      { token: REAL, headers: attacker },
    );
    expect(sameAddress.data!.uploadActivity).toMatchObject({ status: 'QUEUED' });
  });

  it('bounds the polls of invented tokens subscribing to one activity from one address', async () => {
    const upstream = await strictUpstream();
    const { app } = await startStack({
      CLEARTAX_BASE_URL: upstream.url,
      TRUST_PROXY: 'true',
      MAX_NEW_TOKENS_PER_ADDRESS: '10',
      POLL_INTERVAL_MS: '20',
      POLL_MAX_INTERVAL_MS: '40',
    });
    class FromAttacker extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { 'x-forwarded-for': '203.0.113.99' } });
      }
    }
    const subs = Array.from({ length: 60 }, (_, i) =>
      record(
        connect(app.url, { webSocketImpl: FromAttacker, connectionParams: { authToken: `sub-invented-${i}` } }),
        UploadActivityStatusChangedDocument,
        {
          taxableEntityId: ENTITY,
          activityId: ACTIVITY,
        },
      ),
    );
    await Promise.all(subs.map((sub) => sub.done.catch(() => undefined)));
    expect(subs.every((sub) => sub.isDone)).toBe(true);
    expect(statusReads(upstream.requests)).toBeLessThanOrEqual(10);
  });

  it('answers a socket whose token ClearTax refused without another read: each new subscribe on it fails at once', async () => {
    const upstream = await strictUpstream();
    const { app } = await startStack({
      CLEARTAX_BASE_URL: upstream.url,
      POLL_INTERVAL_MS: '20',
      POLL_MAX_INTERVAL_MS: '40',
    });
    // Not lazy: the socket stays open between subscriptions, as a board's does.
    const client = connect(app.url, { lazy: false, connectionParams: { authToken: 'invented-but-accepted-at-init' } });
    for (let i = 0; i < 6; i++) {
      const sub = record(client, UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: ACTIVITY,
      });
      const refusal = (await sub.done.then(
        () => [],
        (errors: unknown) => errors,
      )) as { extensions?: { code?: string } }[];
      const codes = [...sub.events.flatMap((event) => event.errors ?? []), ...refusal].map(
        (error) => error.extensions?.code,
      );
      expect(codes).toEqual(['UNAUTHENTICATED']);
    }
    expect(statusReads(upstream.requests)).toBe(1);
  });
});
