import type { StatusSnapshot } from '../domain/index.js';
import type { SnapshotStore } from '../snapshot-store.js';
import type { RedisLink } from './redis-link.js';

export interface RedisSnapshotStoreOptions {
  link: RedisLink;
  /** How long a snapshot stays. */
  ttlMs: number;
  /** Key prefix. @default 'gw:snap:' */
  prefix?: string;
}

/**
 * Snapshots in Redis with a TTL, shared by every instance: the latest state of each
 * watched key (written by its poller), or terminal states (written by the reads
 * that saw them). Keys hold token hashes only. Never throws: while Redis is down
 * (or hung: judged by the link's PINGs) a read finds nothing and a write is
 * skipped; a command waits at most the link's command timeout. `delete` is a no-op: other instances
 * may still watch the key, and the TTL clears it.
 */
export function createRedisSnapshotStore(options: RedisSnapshotStoreOptions): SnapshotStore {
  const { link, ttlMs } = options;
  const prefix = options.prefix ?? 'gw:snap:';
  return {
    async get(keyId) {
      if (!link.isUp) return undefined;
      try {
        const text = await link.commands.get(prefix + keyId);
        return text ? (JSON.parse(text) as StatusSnapshot) : undefined;
      } catch (error) {
        link.reportFailure(error);
        return undefined;
      }
    },
    async set(keyId, snapshot) {
      if (!link.isUp) return;
      await link.commands
        .set(prefix + keyId, JSON.stringify(snapshot), 'PX', ttlMs)
        .catch((error: unknown) => link.reportFailure(error));
    },
    async delete() {},
  };
}
