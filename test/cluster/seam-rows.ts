import { expect, onTestFinished } from 'vitest';
import { createRedisLink, type RedisLink } from '../../src/cluster/redis-link.js';
import { createLogger } from '../../src/logger.js';
import { redisClient, startRedis } from '../helpers/redis.js';

/**
 * What the seam suites (seam-*.test.ts) run each implementation against: the
 * instances of one deployment and its backing. Every suite is a `describe.each`
 * over an in-process row and a Redis row; a row builds its world inside each test
 * (startRedis and the links end with the test).
 */
export interface SeamWorld<Seam> {
  /**
   * `count` gateway instances' implementation of the seam. Redis: one per instance,
   * each on its own link to the same redis-server, returned once every link is up
   * (a seam on a down link falls back to its in-process behaviour, which would
   * hide the Redis one). In-process: one process has one, shared by everything in it.
   */
  instances(count: number): Promise<Seam[]>;
  /** The backing goes away: Redis is killed, and every link has seen it. In-process: there is none; nothing happens. */
  outage(): Promise<void>;
}

/** An in-process world: `create()` once, the same object for every "instance". */
export function inProcessWorld<Seam>(create: () => Seam): SeamWorld<Seam> {
  let shared: Seam | undefined;
  return {
    instances: (count) => {
      shared ??= create();
      return Promise.resolve(Array.from({ length: count }, () => shared!));
    },
    outage: () => Promise.resolve(),
  };
}

export interface RedisBacking {
  /** A plain client to look into the test's Redis (PUBSUB NUMSUB…). */
  readonly admin: ReturnType<typeof redisClient>;
  /** A new link to the test's Redis, stopped with the test, resolved once it is up. */
  link(): Promise<RedisLink>;
  /** Kills redis-server; resolves once every link made here says it is down. */
  outage(): Promise<void>;
}

/** A real redis-server for this test, and links to it configured to notice changes fast. */
export async function startRedisBacking(): Promise<RedisBacking> {
  const redis = await startRedis();
  const admin = redisClient(redis.url);
  const logger = createLogger('silent');
  const links: RedisLink[] = [];
  return {
    admin,
    async link() {
      const link = createRedisLink({ url: redis.url, logger, reconnectMs: 20, pingIntervalMs: 100 });
      onTestFinished(() => link.stop());
      links.push(link);
      await expect.poll(() => link.isUp, { timeout: 10_000 }).toBe(true);
      return link;
    },
    async outage() {
      await redis.stop();
      await expect.poll(() => links.every((link) => !link.isUp), { timeout: 10_000 }).toBe(true);
    },
  };
}

/** A Redis world: `create(link)` per instance, each on its own link. */
export function redisWorld<Seam>(
  backing: RedisBacking,
  create: (link: RedisLink) => Seam | Promise<Seam>,
): SeamWorld<Seam> {
  return {
    async instances(count) {
      const seams: Seam[] = [];
      for (let i = 0; i < count; i += 1) seams.push(await create(await backing.link()));
      return seams;
    },
    outage: () => backing.outage(),
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
