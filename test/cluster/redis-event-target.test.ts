import { describe, expect, it, onTestFinished } from 'vitest';
import { createRedisEventTarget } from '../../src/cluster/redis-event-target.js';
import { createRedisLink } from '../../src/cluster/redis-link.js';
import { createLogger } from '../../src/logger.js';
import { redisClient, startRedis, type TestRedis } from '../helpers/redis.js';

const PREFIX = 'gw:status:';

/** The event target of one instance, on its own link to `url`, logging into a list. */
function instance(url: string) {
  const raw: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void raw.push(line) });
  const link = createRedisLink({ url, logger, reconnectMs: 20 });
  onTestFinished(() => link.stop());
  const target = createRedisEventTarget({ link, prefix: PREFIX, logger, retryMs: 20, maxRetryMs: 100 });
  const lines = () =>
    raw.map((line) => JSON.parse(line) as { level: number; msg: string; reason?: string; channels?: number });
  /** Listens to `topic`; returns what arrives. */
  const listen = (topic: string) => {
    const received: unknown[] = [];
    target.addEventListener(topic, (event) => void received.push((event as CustomEvent).detail));
    return received;
  };
  return { link, target, lines, listen };
}

/** Subscribers of a channel, as Redis counts them. */
async function subscribers(admin: ReturnType<typeof redisClient>, topic: string): Promise<number> {
  const [, count] = (await admin.pubsub('NUMSUB', PREFIX + topic)) as [string, number];
  return Number(count);
}

/** Publishes until one subscriber got it (a publish before the SUBSCRIBE lands is lost by design). */
async function publishSeen(admin: ReturnType<typeof redisClient>, topic: string, received: unknown[], detail: unknown) {
  await expect.poll(() => subscribers(admin, topic), { timeout: 10_000 }).toBe(1);
  expect(await admin.publish(PREFIX + topic, JSON.stringify(detail))).toBe(1);
  await expect.poll(() => received, { timeout: 5000 }).toContainEqual(detail);
}

describe('Redis event target subscriptions', () => {
  it('logs a refused SUBSCRIBE and retries it until Redis allows it', async () => {
    const redis = await startRedis();
    const admin = redisClient(redis.url);
    // A user that may run commands but, for now, use no channel at all.
    await admin.call('ACL', 'SETUSER', 'gateway', 'on', '>gateway-secret', '~*', '+@all', 'resetchannels');
    const { link, lines, listen } = instance(`redis://gateway:gateway-secret@127.0.0.1:${redis.port}`);
    await expect.poll(() => link.isUp, { timeout: 10_000 }).toBe(true);
    const received = listen('key-1');
    await expect
      .poll(() => lines().find((line) => line.level === 40 && /SUBSCRIBE failed/.test(line.msg)), { timeout: 5000 })
      .toMatchObject({ reason: 'NOPERM', channels: 1 });
    expect(await subscribers(admin, 'key-1')).toBe(0);

    await admin.call('ACL', 'SETUSER', 'gateway', 'allchannels');
    await publishSeen(admin, 'key-1', received, { n: 1 });
    expect(lines().filter((line) => line.level === 30 && /SUBSCRIBE succeeded again/.test(line.msg))).toHaveLength(1);
    // Retries within the log interval added no further warning.
    expect(lines().filter((line) => line.level === 40 && /SUBSCRIBE/.test(line.msg))).toHaveLength(1);
    expect(received).toEqual([{ n: 1 }]);
  });

  it('subscribes a topic added while Redis refuses the password, once it accepts it', async () => {
    const redis = await startRedis({ args: ['--requirepass', 'old-secret'] });
    const admin = redisClient(redis.url, { password: 'old-secret' });
    const { link, listen } = instance(`redis://:new-secret@127.0.0.1:${redis.port}`);
    const received = listen('key-2');
    // Several refused attempts: a SUBSCRIBE queued meanwhile would have been dropped with them.
    let refusals = 0;
    link.subscriber.on('error', () => void (refusals += 1));
    await expect.poll(() => refusals, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);

    await admin.config('SET', 'requirepass', 'new-secret');
    await expect.poll(() => link.isUp, { timeout: 10_000 }).toBe(true);
    await publishSeen(admin, 'key-2', received, { n: 2 });
  });

  it('subscribes every topic again after Redis restarts, and no longer the ones left', async () => {
    const redis: TestRedis = await startRedis();
    const admin = redisClient(redis.url);
    const { link, target, listen } = instance(redis.url);
    await expect.poll(() => link.isUp, { timeout: 10_000 }).toBe(true);
    const kept = listen('key-3');
    const left = () => undefined;
    target.addEventListener('key-4', left);
    await expect.poll(() => subscribers(admin, 'key-4'), { timeout: 5000 }).toBe(1);

    await redis.stop();
    await expect.poll(() => link.isUp, { timeout: 10_000 }).toBe(false);
    target.removeEventListener('key-4', left);
    await redis.start();
    await expect.poll(() => link.isUp, { timeout: 10_000 }).toBe(true);
    await publishSeen(admin, 'key-3', kept, { n: 3 });
    expect(await subscribers(admin, 'key-4')).toBe(0);
  });
});
