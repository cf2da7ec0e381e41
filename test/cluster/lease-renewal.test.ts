import { describe, expect, it, onTestFinished } from 'vitest';
import { createRedisEventTarget } from '../../src/cluster/redis-event-target.js';
import { createRedisLink } from '../../src/cluster/redis-link.js';
import { createRedisPollLease } from '../../src/cluster/redis-poll-lease.js';
import { createRedisSnapshotStore } from '../../src/cluster/redis-snapshot-store.js';
import { activityKey, type StatusEvent } from '../../src/domain/index.js';
import { createLogger } from '../../src/logger.js';
import { createAppPubSub } from '../../src/pubsub.js';
import { createSimulator, type Simulator } from '../../src/simulator/server.js';
import { createStatusWatcher } from '../../src/upload-activity/status-watcher.js';
import { redisClient, startRedis } from '../helpers/redis.js';
import { testClient, testSource } from '../helpers/upstream.js';

const ENTITY = '11111111-2222-4333-8444-555555555555';
const TOKEN = 'token-lease';
const LEASE_TTL_MS = 600;
const INTERVAL_MS = 50;
const GROWTH = 1.5;
/** Far longer than the lease TTL: between two polls, only the renewal timer keeps the lease. */
const MAX_INTERVAL_MS = 5000;

/**
 * One gateway instance's watcher, wired the way src/cluster/index.ts wires it
 * (lease, store and PubSub on its own Redis link), with a lease TTL short enough
 * to see several of them pass in a test.
 */
function instance(redisUrl: string, simulator: Simulator) {
  const logger = createLogger('silent');
  const link = createRedisLink({ url: redisUrl, logger, reconnectMs: 20 });
  const lease = createRedisPollLease({ link, ttlMs: LEASE_TTL_MS });
  const client = testClient(simulator.url, { timeoutMs: 5000, retries: 0, logger });
  const source = testSource(client, { maxConcurrency: 8, retries: 0 });
  const watcher = createStatusWatcher({
    source,
    pubSub: createAppPubSub(createRedisEventTarget({ link, prefix: 'gw:status:', logger })),
    lease,
    store: createRedisSnapshotStore({ link, ttlMs: 2 * MAX_INTERVAL_MS }),
    intervalMs: INTERVAL_MS,
    maxIntervalMs: MAX_INTERVAL_MS,
    staleAfterMs: 30_000,
    growthFactor: GROWTH,
    logger,
  });
  onTestFinished(async () => {
    await watcher.stop();
    lease.stop();
    await link.stop();
  });
  return { link, lease, watcher };
}

/** Polls one holder makes of an unchanged key within `windowMs` at most: its intervals only grow, so the first window is the densest. */
function mostPollsOfOneHolder(windowMs: number): number {
  let polls = 0;
  for (
    let at = 0, interval = INTERVAL_MS;
    at <= windowMs;
    at += interval, interval = Math.min(MAX_INTERVAL_MS, Math.round(interval * GROWTH))
  )
    polls += 1;
  return polls;
}

describe('poll lease renewal', () => {
  it('keeps the lease with its holder across many TTLs while its poll interval outgrows the TTL', async () => {
    const redis = await startRedis();
    const simulator = createSimulator({ stepMs: 0 });
    await simulator.start();
    onTestFinished(() => simulator.stop());
    const inspector = redisClient(redis.url);
    const first = instance(redis.url, simulator);
    const second = instance(redis.url, simulator);
    await expect.poll(() => first.link.isUp && second.link.isUp, { timeout: 10_000 }).toBe(true);
    const key = activityKey(
      ENTITY,
      simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 4, isAuto: false }).activityId,
    );
    const requests = () => simulator.stats.byActivity.get(`${key.taxableEntityId}:${key.activityId}`) ?? 0;

    // The first instance's subscriber comes first: it polls, so it holds the lease.
    const seen: StatusEvent[][] = [[], []];
    const drain = (index: number, subscription: AsyncIterable<StatusEvent>) =>
      void (async () => {
        for await (const event of subscription) seen[index]!.push(event);
      })();
    drain(0, first.watcher.watch(TOKEN, [key]));
    await expect.poll(() => seen[0]!.length, { timeout: 5000 }).toBe(1);
    const [leaseKey] = await inspector.keys('gw:lease:*');
    expect(await inspector.get(leaseKey!)).toBe(first.lease.instanceId);
    // The second one's claims (one per base interval, 50 ms) would take the lease the moment it lapsed.
    drain(1, second.watcher.watch(TOKEN, [key]));
    await expect.poll(() => seen[1]!.length, { timeout: 5000 }).toBe(1);

    // Watch for ten TTLs: the holder's polls soon come further apart than the TTL (50 ms growing by 1.5 passes 600 ms within 2 s).
    const windowMs = 10 * LEASE_TTL_MS;
    const before = requests();
    const startedAt = Date.now();
    const holders = new Set<string | null>();
    for (let sample = 0; sample < 1000 && Date.now() - startedAt < windowMs; sample += 1) {
      holders.add(await inspector.get(leaseKey!));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(holders).toEqual(new Set([first.lease.instanceId]));
    expect(second.lease.held.size).toBe(0);
    // Upstream saw the holder's polls alone: none from a second poller.
    expect(requests() - before).toBeLessThanOrEqual(mostPollsOfOneHolder(Date.now() - startedAt));
    expect(requests() - before).toBeGreaterThanOrEqual(2);
  }, 30_000);
});
