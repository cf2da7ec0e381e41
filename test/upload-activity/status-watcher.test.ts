import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { activityKey, type ActivityKey, type StatusEvent } from '../../src/domain/index.js';
import { createLogger } from '../../src/logger.js';
import { createAppPubSub } from '../../src/pubsub.js';
import { createSimulator } from '../../src/simulator/server.js';
import type { StatusSubscription } from '../../src/upload-activity/status-subscription.js';
import { createStatusWatcher, type StatusWatcherOptions } from '../../src/upload-activity/status-watcher.js';
import { testClient, testSource } from '../helpers/upstream.js';

const ENTITY = '11111111-2222-4333-8444-555555555555';
const TOKEN = 'token-a';

/** A real watcher over a real source and client, against the simulator, with short intervals. */
async function setup(options: Partial<StatusWatcherOptions> = {}) {
  const simulator = createSimulator({ stepMs: 0 });
  const url = await simulator.start();
  onTestFinished(() => simulator.stop());
  // Queries would retry twice; the watcher must ask for single attempts itself.
  const client = testClient(url, { timeoutMs: 5000 });
  const source = testSource(client, { maxConcurrency: 8 });
  const watcher = createStatusWatcher({
    source,
    pubSub: createAppPubSub(),
    intervalMs: 10,
    maxIntervalMs: 10,
    staleAfterMs: 30_000,
    logger: createLogger('silent'),
    ...options,
  });
  onTestFinished(() => watcher.stop());
  const activity = (status = 'QUEUED', queuedCount = 3) =>
    activityKey(
      ENTITY,
      simulator.createActivity({ taxableEntityId: ENTITY, status, queuedCount, isAuto: false }).activityId,
    );
  const requestsFor = (key: ActivityKey) =>
    simulator.stats.byActivity.get(`${key.taxableEntityId}:${key.activityId}`) ?? 0;
  return { simulator, watcher, source, activity, requestsFor };
}

/** Drains a subscription into a list, in the background. */
function collect(subscription: StatusSubscription): string[] {
  const seen: string[] = [];
  const label = (e: StatusEvent) =>
    e.type === 'snapshot' ? `${e.snapshot.rawStatus}:${e.snapshot.queuedCount}${e.isStale ? ':stale' : ''}` : e.code;
  void (async () => {
    for await (const event of subscription) seen.push(label(event));
    seen.push('done');
  })();
  return seen;
}

describe('StatusWatcher', () => {
  it('polls each key once for all its subscribers, and forgets it when the last one leaves', async () => {
    const { watcher, activity, requestsFor } = await setup();
    const key = activity();
    const subscriptions = [watcher.watch(TOKEN, [key]), watcher.watch(TOKEN, [key]), watcher.watch(TOKEN, [key, key])];
    const seen = subscriptions.map(collect);
    await expect.poll(() => seen.every((s) => s.length === 1)).toBe(true);
    expect(watcher.size).toEqual({ keys: 1, subscriptions: 3 });
    await expect.poll(() => requestsFor(key)).toBeGreaterThanOrEqual(5);
    expect(seen).toEqual([['QUEUED:3'], ['QUEUED:3'], ['QUEUED:3']]);
    for (const s of subscriptions) s.close();
    expect(watcher.size).toEqual({ keys: 0, subscriptions: 0 });
  });

  it('lets no slow key hold the others: each read publishes and reschedules on its own', async () => {
    const { simulator, watcher, activity, requestsFor } = await setup();
    const slow = activity('QUEUED', 9);
    const fast = activity('QUEUED', 2);
    // Every read of the slow key takes far longer than the whole test needs.
    simulator.addFault({ activityId: slow.activityId, delayMs: 4000, times: Infinity });
    const slowSeen = collect(watcher.watch(TOKEN, [slow]));
    const fastSeen = collect(watcher.watch(TOKEN, [fast]));
    await expect.poll(() => fastSeen.length).toBe(1);
    simulator.setState(ENTITY, fast.activityId, { queuedCount: 1 });
    await expect.poll(() => fastSeen.length).toBe(2);
    simulator.setState(ENTITY, fast.activityId, { status: 'PROCESSED', queuedCount: 0 });
    await expect.poll(() => fastSeen).toEqual(['QUEUED:2', 'QUEUED:1', 'PROCESSED:0', 'done']);
    // All the while, the slow key's first read was in flight and was never started twice.
    expect(slowSeen).toEqual([]);
    expect(requestsFor(slow)).toBe(1);
    expect(requestsFor(fast)).toBeGreaterThanOrEqual(3);
    await simulator.stop(); // ends the slow read now (reset), so teardown does not wait for it
  });

  it('serves a second subscriber the fresh state it has, without another read', async () => {
    const { watcher, activity, requestsFor } = await setup({ intervalMs: 60_000, maxIntervalMs: 60_000 });
    const key = activity();
    const first = collect(watcher.watch(TOKEN, [key]));
    await expect.poll(() => first.length).toBe(1);
    const second = collect(watcher.watch(TOKEN, [key]));
    await expect.poll(() => second.length).toBe(1);
    expect(second).toEqual(['QUEUED:3']);
    expect(requestsFor(key)).toBe(1);
  });

  it('polls with a single attempt: a failed poll is one upstream request, then backoff, never a retry burst', async () => {
    const { simulator, watcher, source, activity } = await setup();
    const key = activity('UPLOADED', 0);
    simulator.addFault({ activityId: key.activityId, status: 503, times: 3 });
    const seen = collect(watcher.watch(TOKEN, [key]));
    await expect.poll(() => seen).toEqual(['UPLOADED:0']);
    // Settle every read in flight, then compare: each read the watcher started went upstream
    // exactly once, the three failed ones included.
    await watcher.stop();
    expect(simulator.stats.requests).toBeGreaterThanOrEqual(4);
    expect(source.stats.upstream).toBe(simulator.stats.requests);
  });

  it('says isStale only once polls have failed for staleAfterMs: not at the first failure, not much later', async () => {
    // Only Date is faked, and it runs on with real time (shouldAdvanceTime): timers, sockets and
    // the simulator stay real, and the test moves the watcher's clock forward past or short of the
    // threshold at will, so the threshold is pinned both ways without any timed assertion.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, advanceTimeDelta: 5 });
    onTestFinished(() => void vi.useRealTimers());
    const staleAfterMs = 60_000;
    const { simulator, watcher, activity, requestsFor } = await setup({ staleAfterMs });
    const key = activity('QUEUED', 3);
    const seen = collect(watcher.watch(TOKEN, [key]));
    await expect.poll(() => seen).toEqual(['QUEUED:3']);

    simulator.addFault({ activityId: key.activityId, status: 503, times: Infinity });
    const outageStart = Date.now(); // no poll can have failed before this
    const failed = requestsFor(key);
    await expect.poll(() => requestsFor(key), { timeout: 5000 }).toBeGreaterThanOrEqual(failed + 5);
    const failing = Date.now(); // the first failed poll is behind us: polls have failed since no later than this
    expect(seen).toEqual(['QUEUED:3']);

    // Polls have failed for at most staleAfterMs - 5 s (plus what real time adds meanwhile): not stale yet.
    vi.setSystemTime(outageStart + staleAfterMs - 5000);
    const shortOfIt = requestsFor(key);
    await expect.poll(() => requestsFor(key), { timeout: 5000 }).toBeGreaterThanOrEqual(shortOfIt + 5);
    expect(seen).toEqual(['QUEUED:3']);

    // Polls have failed for at least staleAfterMs + 1 s: the next failed poll says so, with the last known state.
    vi.setSystemTime(failing + staleAfterMs + 1000);
    await expect.poll(() => seen, { timeout: 5000 }).toEqual(['QUEUED:3', 'QUEUED:3:stale']);

    // The next good poll says it is fresh again.
    simulator.clearFaults();
    await expect.poll(() => seen, { timeout: 5000 }).toEqual(['QUEUED:3', 'QUEUED:3:stale', 'QUEUED:3']);
  });

  it('ends a key with its error (NOT_FOUND) and stops polling it', async () => {
    const { watcher, requestsFor } = await setup();
    const missing = activityKey(ENTITY, '99999999-9999-4999-8999-999999999999');
    const seen = collect(watcher.watch(TOKEN, [missing]));
    await expect.poll(() => seen).toEqual(['NOT_FOUND', 'done']);
    expect(watcher.size).toEqual({ keys: 0, subscriptions: 0 });
    expect(requestsFor(missing)).toBe(1);
  });

  it('stop() completes every subscription and refuses new ones', async () => {
    const { watcher, activity } = await setup();
    const seen = collect(watcher.watch(TOKEN, [activity()]));
    await expect.poll(() => seen.length).toBe(1);
    await watcher.stop();
    await expect.poll(() => seen).toEqual(['QUEUED:3', 'done']);
    expect(() => watcher.watch(TOKEN, [activity()])).toThrow(expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE' }));
    expect(watcher.size).toEqual({ keys: 0, subscriptions: 0 });
  });
});
