import { once } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parse, print } from 'graphql';
import WebSocket from 'ws';
import {
  UploadActivitiesStatusChangedDocument,
  UploadActivityDocument,
  UploadActivityStatusChangedDocument,
} from '../../schema/generated/graphql.js';
import { ENTITY, TOKEN, startStack } from '../helpers/stack.js';
import { letPollsPass, requestsFor } from '../helpers/polls.js';
import { connect as connectWs, record } from '../helpers/ws-client.js';
import { transports } from '../helpers/transports.js';

const MISSING = '99999999-9999-4999-8999-999999999999';
/** Short intervals: every poll-driven test runs in well under a second per state. */
const FAST = { POLL_INTERVAL_MS: '20', POLL_MAX_INTERVAL_MS: '80', UPSTREAM_RETRY_BASE_MS: '1' };

const summary = (e: {
  data?: { uploadActivityStatusChanged?: { status: string; queuedCount: number | null } } | null;
}) => `${e.data?.uploadActivityStatusChanged?.status}:${e.data?.uploadActivityStatusChanged?.queuedCount}`;

/**
 * The subscription semantics, the same on every transport: each test runs once per
 * entry of `transports` (graphql-ws today), through that transport's real client.
 */
describe.each(transports)('over $name', ({ connect }) => {
  describe('Subscription.uploadActivityStatusChanged', () => {
    it('delivers the whole lifecycle in order, once per change, then completes', async () => {
      const { app, simulator } = await startStack(FAST);
      const a = simulator.createActivity({ taxableEntityId: ENTITY, queueLength: 2 });
      const sub = record(connect(app.url), UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: a.activityId,
      });
      const expected = ['INIT:0', 'UPLOADED:0', 'QUEUED:2', 'QUEUED:1', 'PROCESSING:0', 'PROCESSED:0'];
      for (let i = 0; i < expected.length; i++) {
        await expect.poll(() => sub.events.length, { timeout: 5000, interval: 5 }).toBe(i + 1);
        if (i === expected.length - 1) break;
        // Let several unchanged polls pass: none of them may produce an event.
        const before = simulator.stats.requests;
        await expect
          .poll(() => simulator.stats.requests, { timeout: 5000, interval: 5 })
          .toBeGreaterThanOrEqual(before + 2);
        simulator.step();
      }
      await sub.done;
      expect(sub.events.map(summary)).toEqual(expected);
      expect(sub.events.every((e) => e.errors === undefined)).toBe(true);
      expect(sub.events[0]!.data!.uploadActivityStatusChanged.id).toBe(`UploadActivity:${ENTITY}:${a.activityId}`);
      await expect.poll(() => app.watcher.size).toEqual({ keys: 0, subscriptions: 0 });
    });

    it('delivers ABORTED with its errorMessage, then completes', async () => {
      const { app, simulator } = await startStack(FAST);
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSING', isAuto: false });
      const sub = record(connect(app.url), UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: a.activityId,
      });
      await expect.poll(() => sub.events.length).toBe(1);
      simulator.setState(ENTITY, a.activityId, { status: 'ABORTED', errorMessage: 'Row 7: invalid HSN code' });
      await sub.done;
      expect(sub.events.map((e) => e.data!.uploadActivityStatusChanged)).toMatchObject([
        { status: 'PROCESSING', isTerminal: false },
        { status: 'ABORTED', errorMessage: 'Row 7: invalid HSN code', isTerminal: true },
      ]);
    });

    it('completes at once for an already terminal activity', async () => {
      const { app, simulator } = await startStack(FAST);
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED', isAuto: false });
      const sub = record(connect(app.url), UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: a.activityId,
      });
      await sub.done;
      expect(sub.events.map(summary)).toEqual(['PROCESSED:0']);
      expect(simulator.stats.requests).toBe(1);
    });

    it('delivers NOT_FOUND as an error, then completes and stops polling', async () => {
      const { app, simulator } = await startStack(FAST);
      const sub = record(connect(app.url), UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: MISSING,
      });
      await sub.done;
      expect(sub.events).toHaveLength(1);
      expect(sub.events[0]!.data).toBeNull();
      expect(sub.events[0]!.errors![0]).toMatchObject({
        path: ['uploadActivityStatusChanged'],
        extensions: { code: 'NOT_FOUND', upstream: { httpStatus: 404, code: '404' } },
      });
      expect(app.watcher.size).toEqual({ keys: 0, subscriptions: 0 });
      await letPollsPass({ app, simulator }, 4);
      expect(requestsFor({ simulator }, MISSING)).toBe(1);
    });

    it.each([
      [401, 'UNAUTHENTICATED'],
      [403, 'FORBIDDEN'],
    ] as const)('delivers upstream %i as %s, then completes', async (status, code) => {
      const { app, simulator } = await startStack(FAST);
      const a = simulator.createActivity({ taxableEntityId: ENTITY });
      simulator.setTokenStatus(TOKEN, status);
      const sub = record(connect(app.url), UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: a.activityId,
      });
      await sub.done;
      expect(sub.events.map((e) => e.errors?.[0]?.extensions?.code)).toEqual([code]);
      expect(JSON.stringify(sub.events)).not.toContain(TOKEN);
    });

    it('serves a second subscriber from the fresh cached state, without another upstream request', async () => {
      const { app, simulator } = await startStack({ POLL_INTERVAL_MS: '5000', POLL_MAX_INTERVAL_MS: '5000' });
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 4, isAuto: false });
      const client = connect(app.url);
      const first = record(client, UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: a.activityId,
      });
      await expect.poll(() => first.events.length).toBe(1);
      const second = record(client, UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: a.activityId,
      });
      await expect.poll(() => second.events.length).toBe(1);
      expect(summary(second.events[0]!)).toBe('QUEUED:4');
      expect(simulator.stats.requests).toBe(1);
      expect(app.watcher.size).toEqual({ keys: 1, subscriptions: 2 });
    });

    it('reads the current state for a late subscriber when the known one is older than an interval', async () => {
      // Base interval 1 ms: a known state serves a newcomer only if read within the last 1 ms.
      const stack = await startStack({ POLL_INTERVAL_MS: '1', POLL_MAX_INTERVAL_MS: '5000' });
      const { app, simulator } = stack;
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'UPLOADED', isAuto: false });
      const client = connect(app.url);
      const first = record(client, UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: a.activityId,
      });
      await expect.poll(() => first.events.length).toBe(1);
      // Unchanged polls space out (x1.5 each): after 12 they are over 100 ms apart, and the known state ages.
      await expect.poll(() => requestsFor(stack, a.activityId), { timeout: 10_000 }).toBeGreaterThanOrEqual(12);
      const subscribedAt = Date.now();
      const late = record(client, UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: a.activityId,
      });
      await expect.poll(() => late.events.length).toBe(1);
      const lateState = late.events[0]!.data!.uploadActivityStatusChanged;
      expect(lateState.status).toBe('UPLOADED');
      expect(Date.parse(lateState.fetchedAt)).toBeGreaterThanOrEqual(subscribedAt - 1);
      expect(first.events).toHaveLength(1);
    });

    it('costs at most one upstream request per interval for 100 subscribers, and stops polling when they leave', async () => {
      const interval = 50;
      const { app, simulator } = await startStack({
        POLL_INTERVAL_MS: String(interval),
        POLL_MAX_INTERVAL_MS: String(interval),
      });
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSING', isAuto: false });
      const clients = Array.from({ length: 100 }, () => connect(app.url));
      const started = Date.now();
      const subs = clients.map((c) =>
        record(c, UploadActivityStatusChangedDocument, { taxableEntityId: ENTITY, activityId: a.activityId }),
      );
      await expect.poll(() => subs.every((s) => s.events.length === 1), { timeout: 10_000 }).toBe(true);
      await expect.poll(() => simulator.stats.requests, { timeout: 10_000, interval: 5 }).toBeGreaterThanOrEqual(6);
      const elapsed = Date.now() - started;
      expect(app.watcher.size).toEqual({ keys: 1, subscriptions: 100 });
      // n polls, each at least one interval after the previous one settled, need (n - 1) intervals:
      // a slow machine only loosens this bound. 100 pollers would make it fail at once.
      expect(simulator.stats.requests).toBeLessThanOrEqual(Math.floor(elapsed / interval) + 1);

      // A change reaches every subscriber exactly once.
      simulator.setState(ENTITY, a.activityId, { status: 'PROCESSED' });
      await Promise.all(subs.map((s) => s.done));
      expect(subs.every((s) => s.events.map(summary).join() === 'PROCESSING:0,PROCESSED:0')).toBe(true);
      expect(app.watcher.size).toEqual({ keys: 0, subscriptions: 0 });
    });

    it('stops polling once the last subscriber disconnects', async () => {
      const interval = 20;
      const stack = await startStack({ POLL_INTERVAL_MS: String(interval), POLL_MAX_INTERVAL_MS: String(interval) });
      const { app, simulator } = stack;
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 3, isAuto: false });
      const clients = Array.from({ length: 5 }, () => connect(app.url));
      const subs = clients.map((c) =>
        record(c, UploadActivityStatusChangedDocument, { taxableEntityId: ENTITY, activityId: a.activityId }),
      );
      await expect.poll(() => subs.every((s) => s.events.length === 1)).toBe(true);
      await expect.poll(() => requestsFor(stack, a.activityId)).toBeGreaterThanOrEqual(3);
      await Promise.all(clients.map((c) => c.dispose()));
      await expect.poll(() => app.watcher.size).toEqual({ keys: 0, subscriptions: 0 });
      const whenGone = requestsFor(stack, a.activityId);
      await letPollsPass(stack, 6);
      // A poll already on the wire when the last subscriber left may still arrive; nothing after it.
      expect(requestsFor(stack, a.activityId)).toBeLessThanOrEqual(whenGone + 1);
    });

    it('stays open through an upstream outage of 500s, backing off, and delivers the next change', async () => {
      // The outage lasts for a number of failed polls, not a number of seconds; the backoff itself is
      // pinned under fake timers in test/unit/poll-scheduler.test.ts.
      const interval = 10;
      const FAILED_POLLS = 8;
      const { app, simulator } = await startStack({ POLL_INTERVAL_MS: String(interval), POLL_MAX_INTERVAL_MS: '80' });
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 2, isAuto: false });
      const sub = record(connect(app.url), UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: a.activityId,
      });
      await expect.poll(() => sub.events.length).toBe(1);
      simulator.addFault({ status: 500, times: Infinity });
      const before = simulator.stats.requests;
      const outageStart = Date.now();
      await expect
        .poll(() => simulator.stats.requests - before, { timeout: 10_000, interval: 5 })
        .toBeGreaterThanOrEqual(FAILED_POLLS);
      const outageMs = Date.now() - outageStart;
      simulator.clearFaults();
      simulator.setState(ENTITY, a.activityId, { queuedCount: 1 });
      await expect.poll(() => sub.events.length, { timeout: 5000 }).toBe(2);
      expect(sub.isDone).toBe(false);
      expect(sub.events.map(summary)).toEqual(['QUEUED:2', 'QUEUED:1']);
      // Backing off (15, 30, 60, then 80 ms at least): 8 failed polls take far longer than 8 base intervals.
      expect(outageMs).toBeGreaterThan(FAILED_POLLS * interval * 4);
    });

    it('says isStale: true with the last known state once polls have failed for STALE_AFTER_MS, and false with the next good poll', async () => {
      const { app, simulator } = await startStack({
        POLL_INTERVAL_MS: '10',
        POLL_MAX_INTERVAL_MS: '20',
        STALE_AFTER_MS: '60',
      });
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 4, isAuto: false });
      const sub = record(connect(app.url), UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: a.activityId,
      });
      await expect.poll(() => sub.events.length).toBe(1);
      simulator.addFault({ status: 503, times: Infinity });
      await expect.poll(() => sub.events.length, { timeout: 5000 }).toBe(2);
      // A newcomer during the outage hears the same: last known state, stale.
      const late = record(connect(app.url), UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: a.activityId,
      });
      await expect.poll(() => late.events.length).toBe(1);
      simulator.clearFaults();
      await expect.poll(() => sub.events.length, { timeout: 5000 }).toBe(3);
      const seen = (e: (typeof sub.events)[number]) =>
        `${e.data!.uploadActivityStatusChanged.queuedCount}:${e.data!.uploadActivityStatusChanged.isStale}`;
      expect(sub.events.map(seen)).toEqual(['4:false', '4:true', '4:false']);
      await expect.poll(() => late.events.map(seen)).toEqual(['4:true', '4:false']);
    });

    it('shows delivery lag on /metrics', async () => {
      const { app, simulator } = await startStack(FAST);
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 2, isAuto: false });
      const sub = record(connect(app.url), UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: a.activityId,
      });
      await expect.poll(() => sub.events.length).toBe(1);
      const before = Number(
        /^gateway_delivery_lag_seconds_count (\d+)$/m.exec(await (await fetch(app.metricsUrl)).text())?.[1],
      );
      simulator.setState(ENTITY, a.activityId, { queuedCount: 1 });
      await expect.poll(() => sub.events.length).toBe(2);
      const text = await (await fetch(app.metricsUrl)).text();
      expect(Number(/^gateway_delivery_lag_seconds_count (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(before);
    });

    it('honours Retry-After from a 429, clamped to POLL_MAX_INTERVAL_MS, before polling again', async () => {
      const { app, simulator } = await startStack({ POLL_INTERVAL_MS: '10', POLL_MAX_INTERVAL_MS: '300' });
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'INIT', isAuto: false });
      const sub = record(connect(app.url), UploadActivityStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityId: a.activityId,
      });
      await expect.poll(() => sub.events.length).toBe(1);
      // Retry-After 3 s is longer than the 300 ms ceiling: the poller waits 300 ms, not 3 s and not its
      // own 15-25 ms backoff.
      simulator.addFault({ status: 429, headers: { 'retry-after': '3' } });
      const before = simulator.stats.requests;
      await expect.poll(() => simulator.stats.requests, { interval: 1 }).toBe(before + 1);
      const answered429At = Date.now();
      await expect.poll(() => simulator.stats.requests, { timeout: 5000, interval: 1 }).toBe(before + 2);
      const gap = Date.now() - answered429At;
      expect(gap).toBeGreaterThanOrEqual(280);
      expect(gap).toBeLessThan(2500);
      simulator.setState(ENTITY, a.activityId, { status: 'UPLOADED' });
      await expect.poll(() => sub.events.length, { timeout: 5000 }).toBe(2);
    });
  });

  describe('Subscription.uploadActivitiesStatusChanged', () => {
    it('follows several activities, duplicates once, and completes when every one is terminal', async () => {
      const { app, simulator } = await startStack(FAST);
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSING', isAuto: false });
      const b = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 1, isAuto: false });
      const sub = record(connect(app.url), UploadActivitiesStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityIds: [a.activityId, b.activityId, a.activityId],
      });
      await expect.poll(() => sub.events.length).toBe(2);
      simulator.setState(ENTITY, a.activityId, { status: 'PROCESSED' });
      await expect.poll(() => sub.events.length).toBe(3);
      expect(sub.isDone).toBe(false);
      simulator.setState(ENTITY, b.activityId, { status: 'ABORTED', errorMessage: 'bad file', queuedCount: 0 });
      await sub.done;
      const seen = sub.events.map(
        (e) => `${e.data!.uploadActivitiesStatusChanged.activityId}:${e.data!.uploadActivitiesStatusChanged.status}`,
      );
      expect(seen.sort()).toEqual(
        [
          `${a.activityId}:PROCESSING`,
          `${b.activityId}:QUEUED`,
          `${a.activityId}:PROCESSED`,
          `${b.activityId}:ABORTED`,
        ].sort(),
      );
      expect(app.watcher.size).toEqual({ keys: 0, subscriptions: 0 });
    });

    it('delivers an unknown activity as its own error while the others go on', async () => {
      const { app, simulator } = await startStack(FAST);
      const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'UPLOADED', isAuto: false });
      const sub = record(connect(app.url), UploadActivitiesStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityIds: [a.activityId, MISSING],
      });
      await expect.poll(() => sub.events.length).toBe(2);
      expect(
        sub.events.map((e) => e.errors?.[0]?.extensions?.code ?? e.data!.uploadActivitiesStatusChanged.status).sort(),
      ).toEqual(['NOT_FOUND', 'UPLOADED']);
      expect(sub.isDone).toBe(false);
      simulator.setState(ENTITY, a.activityId, { status: 'PROCESSED' });
      await sub.done;
      expect(sub.events).toHaveLength(3);
    });

    it('rejects more than MAX_ACTIVITY_IDS ids with BAD_USER_INPUT and no upstream call', async () => {
      const { app, simulator } = await startStack({ ...FAST, MAX_ACTIVITY_IDS: '2' });
      const ids = [1, 2, 3].map(() => simulator.createActivity({ taxableEntityId: ENTITY }).activityId);
      const sub = record(connect(app.url), UploadActivitiesStatusChangedDocument, {
        taxableEntityId: ENTITY,
        activityIds: ids,
      });
      const refusal = await sub.done.then(
        () => undefined,
        (errors: unknown) => errors,
      );
      expect(refusal).toEqual([
        expect.objectContaining({
          message: 'activityIds may list at most 2 ids, got 3',
          extensions: { code: 'BAD_USER_INPUT' },
        }),
      ]);
      expect(simulator.stats.requests).toBe(0);
      expect(app.watcher.size).toEqual({ keys: 0, subscriptions: 0 });
    });
  });
});

describe('WebSocket transport', () => {
  it("shows the slowest subscriber's backlog on /metrics: it rises while a client stops reading, and falls to 0 once it reads again", async () => {
    const { app, simulator } = await startStack({ POLL_INTERVAL_MS: '10', POLL_MAX_INTERVAL_MS: '20' });
    const N = 20;
    // Each event carries a 60 KB message, so a client that stops reading soon fills the socket's
    // buffers; graphql-ws then waits on its write and the subscriber's undelivered events pile up
    // (at most one per activity).
    const message = (round: number) => `round ${round} `.padEnd(60_000, 'x');
    const ids = Array.from(
      { length: N },
      () =>
        simulator.createActivity({
          taxableEntityId: ENTITY,
          status: 'QUEUED',
          queuedCount: 1,
          errorMessage: message(0),
          isAuto: false,
        }).activityId,
    );
    const queueMax = async () =>
      Number(/^gateway_subscriber_queue_max (\d+)$/m.exec(await (await fetch(app.metricsUrl)).text())?.[1]);

    const socket = new WebSocket(app.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    onTestFinished(() => socket.terminate());
    const received: { type: string }[] = [];
    socket.on('message', (data) => received.push(JSON.parse(String(data)) as { type: string }));
    await once(socket, 'open');
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authToken: TOKEN } }));
    await expect.poll(() => received.map((m) => m.type)).toContain('connection_ack');
    socket.send(
      JSON.stringify({
        id: '1',
        type: 'subscribe',
        payload: {
          query: print(UploadActivitiesStatusChangedDocument),
          variables: { taxableEntityId: ENTITY, activityIds: ids },
        },
      }),
    );
    const nexts = () => received.filter((m) => m.type === 'next').length;
    await expect.poll(nexts, { timeout: 5000 }).toBe(N);
    expect(await queueMax()).toBe(0); // caught up

    socket.pause(); // stops reading: TCP backpressure reaches the gateway
    let backlog = 0;
    for (let round = 1; round <= 30 && backlog < N / 2; round++) {
      const polled = ids.map((id) => requestsFor({ simulator }, id));
      for (const id of ids) simulator.setState(ENTITY, id, { errorMessage: message(round) });
      // Every activity read again after its change: the change is the subscriber's to take.
      await expect
        .poll(() => ids.every((id, i) => requestsFor({ simulator }, id) > polled[i]! + 1), {
          timeout: 5000,
          interval: 5,
        })
        .toBe(true);
      backlog = await queueMax();
    }
    expect(backlog).toBeGreaterThanOrEqual(N / 2);
    expect(backlog).toBeLessThanOrEqual(N); // never more than one per activity

    socket.resume();
    await expect.poll(queueMax, { timeout: 10_000, interval: 20 }).toBe(0);
    expect(nexts()).toBeGreaterThan(N);
  });

  it('refuses a connection without any token, with a clear reason', async () => {
    const { app } = await startStack(FAST);
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      const client = connectWs(app.url, {
        connectionParams: {},
        lazy: false,
        onNonLazyError: () => undefined,
        on: { closed: (event) => resolve(event as { code: number; reason: string }) },
      });
      void client;
    });
    const { code, reason } = await closed;
    expect(code).toBe(4403);
    expect(String(reason)).toBe('Forbidden: No ClearTax token: send connectionParams.authToken');
  });

  it.each([
    ['authToken', { authToken: TOKEN }],
    ['X-Cleartax-Auth-Token', { 'X-Cleartax-Auth-Token': TOKEN }],
    ['x-cleartax-auth-token', { 'x-cleartax-auth-token': TOKEN }],
  ])('takes the token from connectionParams.%s', async (_name, connectionParams) => {
    const { app, simulator } = await startStack(FAST);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED' });
    simulator.setTokenStatus('other', 401);
    const sub = record(connectWs(app.url, { connectionParams }), UploadActivityStatusChangedDocument, {
      taxableEntityId: ENTITY,
      activityId: a.activityId,
    });
    await sub.done;
    expect(sub.events.map(summary)).toEqual(['PROCESSED:0']);
  });

  it("never lends the server's token in passthrough mode: a connection without its own is refused", async () => {
    const { app } = await startStack({ ...FAST, CLEARTAX_AUTH_TOKEN: 'server-token' });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      connectWs(app.url, {
        connectionParams: {},
        lazy: false,
        onNonLazyError: () => undefined,
        on: { closed: (event) => resolve(event as { code: number; reason: string }) },
      });
    });
    expect(await closed).toMatchObject({ code: 4403 });
  });

  it('validates like HTTP: a malformed UUID is refused before anything reaches upstream', async () => {
    const { app, simulator } = await startStack(FAST);
    // Variables are coerced before execution (with the limits that need them): refused as a whole, like any refusal.
    const sub = record(connectWs(app.url), UploadActivityStatusChangedDocument, {
      taxableEntityId: ENTITY,
      activityId: 'nope',
    });
    const malformed = await sub.done.then(
      () => undefined,
      (errors: unknown) => errors,
    );
    expect(malformed).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('"$activityId"'),
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ]);
    expect(sub.events).toEqual([]);
    const invalid = record(connectWs(app.url), { kind: 'Document', definitions: [] } as never, {});
    const refusal = await invalid.done.then(
      () => undefined,
      (errors: unknown) => errors,
    );
    expect(refusal).toEqual([expect.objectContaining({ extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]);
    const unknownField = record(connectWs(app.url), parse('subscription { nope }') as never, {});
    const invalidDocument = await unknownField.done.then(
      () => undefined,
      (errors: unknown) => errors,
    );
    expect(invalidDocument).toEqual([expect.objectContaining({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })]);
    expect(simulator.stats.requests).toBe(0);
  });

  it('shares one validated-document cache with HTTP: a document checked on one transport is not parsed again on the other', async () => {
    const { app, simulator, query } = await startStack(FAST);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED', isAuto: false });
    const variables = { taxableEntityId: ENTITY, activityId: a.activityId };
    expect(app.documentCache.documents).toBe(0);
    expect((await query(UploadActivityDocument, variables)).data!.uploadActivity!.status).toBe('PROCESSED');
    expect(app.documentCache.documents).toBe(1);
    const overWs = record(connectWs(app.url), UploadActivityDocument, variables);
    await overWs.done;
    expect(overWs.events.map((e) => e.data?.uploadActivity?.status)).toEqual(['PROCESSED']);
    expect(app.documentCache.documents).toBe(1);
    // An invalid document is never cached.
    const invalid = record(connectWs(app.url), parse('{ nope }') as never, {});
    await invalid.done.catch(() => undefined);
    expect(app.documentCache.documents).toBe(1);
  });

  it('limits subscriptions per connection', async () => {
    const { app, simulator } = await startStack({ ...FAST, MAX_SUBSCRIPTIONS_PER_CONNECTION: '2' });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 5, isAuto: false });
    const client = connectWs(app.url);
    const vars = { taxableEntityId: ENTITY, activityId: a.activityId };
    const first = record(client, UploadActivityStatusChangedDocument, vars);
    const second = record(client, UploadActivityStatusChangedDocument, vars);
    await expect.poll(() => first.events.length + second.events.length).toBe(2);
    const third = record(client, UploadActivityStatusChangedDocument, vars);
    const error = await third.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toEqual([
      { message: 'A connection may hold at most 2 subscriptions', extensions: { code: 'BAD_USER_INPUT' } },
    ]);
    first.unsubscribe();
    await expect.poll(() => app.watcher.size.subscriptions).toBe(1);
    const fourth = record(client, UploadActivityStatusChangedDocument, vars);
    await expect.poll(() => fourth.events.length).toBe(1);
  });

  it('leaves zero pollers and refcounts after 500 clients connect, subscribe and drop at once', async () => {
    const { app, simulator } = await startStack({ POLL_INTERVAL_MS: '20', POLL_MAX_INTERVAL_MS: '40' });
    const ids = Array.from(
      { length: 10 },
      () =>
        simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 3, isAuto: false })
          .activityId,
    );
    const wsUrl = app.url.replace(/^http/, 'ws');
    const sockets = Array.from({ length: 500 }, (_, i) => {
      const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
      socket.on('error', () => undefined);
      socket.on('open', () => {
        socket.send(JSON.stringify({ type: 'connection_init', payload: { authToken: `token-${i % 7}` } }));
        socket.send(
          JSON.stringify({
            id: '1',
            type: 'subscribe',
            payload: {
              query:
                'subscription($e: UUID!, $a: UUID!) { uploadActivityStatusChanged(taxableEntityId: $e, activityId: $a) { status } }',
              variables: { e: ENTITY, a: ids[i % ids.length] },
            },
          }),
        );
        // Some drop while their subscription is still starting, the rest a moment later.
        if (i % 2 === 0) socket.terminate();
        else setTimeout(() => socket.terminate(), 5 + (i % 20));
      });
      return socket;
    });
    await expect.poll(() => sockets.every((s) => s.readyState === WebSocket.CLOSED), { timeout: 15_000 }).toBe(true);
    await expect
      .poll(() => ({ ...app.watcher.size, connections: app.connections }), { timeout: 5000 })
      .toEqual({ keys: 0, subscriptions: 0, connections: 0 });
    const whenGone = ids.map((id) => requestsFor({ simulator }, id));
    await letPollsPass({ app, simulator }, 6);
    // At most a poll already on the wire per activity; nothing after it.
    ids.forEach((id, i) => expect(requestsFor({ simulator }, id)).toBeLessThanOrEqual(whenGone[i]! + 1));
  });

  it('closes sockets with 1001 on shutdown and stops every poller', async () => {
    const { app, simulator } = await startStack(FAST);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 2, isAuto: false });
    const closed = new Promise<number>((resolve) => {
      const client = connectWs(app.url, { on: { closed: (event) => resolve((event as { code: number }).code) } });
      record(client, UploadActivityStatusChangedDocument, { taxableEntityId: ENTITY, activityId: a.activityId });
    });
    await expect.poll(() => app.watcher.size.keys).toBe(1);
    await app.stop();
    expect(await closed).toBe(1001);
    expect(app.watcher.size).toEqual({ keys: 0, subscriptions: 0 });
  });
});
