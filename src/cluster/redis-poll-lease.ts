import { randomUUID } from 'node:crypto';
import type { PollLease } from '../poll-lease.js';
import type { RedisLink } from './redis-link.js';

/** Takes the lease when free, renews it when ours; 1 = ours now. */
const CLAIM = `local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if v == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
/** Deletes the lease only if it is ours. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface RedisPollLeaseOptions {
  link: RedisLink;
  /** Lease time to live: max(3 × POLL_INTERVAL_MS, 5 s). */
  ttlMs: number;
  /** Key prefix. @default 'gw:lease:' */
  prefix?: string;
  /** This instance's id, stored in the leases it holds. @default a random UUID */
  instanceId?: string;
}

export interface RedisPollLease extends PollLease {
  /** Stops renewing. */
  stop(): void;
  readonly instanceId: string;
  /** Keys whose lease this instance believes it holds. */
  readonly held: ReadonlySet<string>;
}

/**
 * The cluster's PollLease: `SET NX PX` in Redis, one holder per watched key. The
 * holder renews every lease it holds every TTL/3 (its own poll interval may be far
 * longer than the TTL) and releases it when its last local subscriber leaves. While
 * Redis is down every instance polls its own keys (claim says yes), which is the
 * contract's outage behaviour; leases resume within one TTL after it returns.
 */
export function createRedisPollLease(options: RedisPollLeaseOptions): RedisPollLease {
  const { link, ttlMs } = options;
  const prefix = options.prefix ?? 'gw:lease:';
  const instanceId = options.instanceId ?? randomUUID();
  const held = new Set<string>();
  const renew = setInterval(
    () => {
      if (!link.isUp || held.size === 0) return;
      const pipeline = link.commands.pipeline();
      for (const keyId of held) pipeline.eval(CLAIM, 1, prefix + keyId, instanceId, ttlMs);
      void pipeline.exec().catch((error: unknown) => link.reportFailure(error));
    },
    Math.max(100, Math.floor(ttlMs / 3)),
  );
  renew.unref();

  return {
    instanceId,
    held,
    async claim(keyId) {
      if (!link.isUp) return true;
      try {
        const ours = (await link.commands.eval(CLAIM, 1, prefix + keyId, instanceId, ttlMs)) === 1;
        if (ours) held.add(keyId);
        else held.delete(keyId);
        return ours;
      } catch (error) {
        link.reportFailure(error);
        return true; // Redis trouble: poll locally rather than not at all
      }
    },
    async release(keyId) {
      held.delete(keyId);
      if (!link.isUp) return;
      await link.commands
        .eval(RELEASE, 1, prefix + keyId, instanceId)
        .catch((error: unknown) => link.reportFailure(error));
    },
    stop() {
      clearInterval(renew);
    },
  };
}
