import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { createRedisEventTarget } from './redis-event-target.js';
import { createRedisLink, type RedisLink } from './redis-link.js';
import { createRedisPollLease, type RedisPollLease } from './redis-poll-lease.js';
import { createRedisSnapshotStore } from './redis-snapshot-store.js';
import type { SnapshotStore } from '../snapshot-store.js';

export interface ClusterOptions {
  /** REDIS_URL. */
  url: string;
  logger: Logger;
  /** POLL_INTERVAL_MS: sets the lease TTL, max(3 × it, 5 s). */
  pollIntervalMs: number;
  /** POLL_MAX_INTERVAL_MS: watched-key snapshots live twice the longer of it and the lease TTL. */
  pollMaxIntervalMs: number;
  /** TERMINAL_CACHE_TTL_MS: how long shared terminal snapshots live. */
  terminalCacheTtlMs: number;
  /** RATE_LIMIT_PER_MINUTE (0 = no limiter). */
  rateLimitPerMinute: number;
}

export interface Cluster {
  readonly link: RedisLink;
  readonly lease: RedisPollLease;
  /** The latest state per watched key. */
  readonly store: SnapshotStore;
  /** Terminal snapshots shared by every instance's StatusSource. */
  readonly sharedTerminal: SnapshotStore;
  /** Under the PubSub: publishes on Redis, delivers locally while it is away. */
  readonly eventTarget: EventTarget;
  /** Per-caller counters in Redis, with a memory limiter as insurance; undefined with no rate limit. */
  readonly limiter: RateLimiterRedis | undefined;
  stop(): Promise<void>;
}

/**
 * The Redis limiter, asking the link whether Redis is up (PING-judged) before each
 * command: while Redis is down or hung, requests go straight to the insurance
 * limiter instead of waiting for a command timeout each.
 */
class LinkRateLimiter extends RateLimiterRedis {
  constructor(
    private readonly link: RedisLink,
    options: ConstructorParameters<typeof RateLimiterRedis>[0],
  ) {
    super({ ...options, rejectIfRedisNotReady: true });
  }

  /** rate-limiter-flexible's hook (checked before every command when `rejectIfRedisNotReady`); by default it reads only ioredis's status. */
  _isRedisReady(): boolean {
    return this.link.isUp;
  }
}

/**
 * Multi-instance mode: the watcher's seams (lease, store, PubSub) and the rate
 * limiter's store, on one Redis. Loaded only when REDIS_URL is set, so a single
 * instance never pays for ioredis.
 */
export function createCluster(options: ClusterOptions): Cluster {
  const logger = options.logger.child({ component: 'redis' });
  const link = createRedisLink({ url: options.url, logger });
  const leaseTtlMs = Math.max(3 * options.pollIntervalMs, 5000);
  const lease = createRedisPollLease({ link, ttlMs: leaseTtlMs });
  return {
    link,
    lease,
    store: createRedisSnapshotStore({ link, ttlMs: Math.max(leaseTtlMs, options.pollMaxIntervalMs) * 2 }),
    sharedTerminal: createRedisSnapshotStore({ link, ttlMs: options.terminalCacheTtlMs, prefix: 'gw:terminal:' }),
    eventTarget: createRedisEventTarget({ link, prefix: 'gw:status:', logger }),
    limiter:
      options.rateLimitPerMinute > 0
        ? new LinkRateLimiter(link, {
            storeClient: link.commands,
            keyPrefix: 'gw:rate',
            points: options.rateLimitPerMinute,
            duration: 60,
            // While Redis is away, each instance counts on its own.
            insuranceLimiter: new RateLimiterMemory({ points: options.rateLimitPerMinute, duration: 60 }),
          })
        : undefined,
    async stop() {
      lease.stop();
      await link.stop();
    },
  };
}
