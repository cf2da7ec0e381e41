import pLimit from 'p-limit';
import { LRUCache } from 'lru-cache';
import type { ClearTaxClient, GetStatusOptions } from '../upstream/cleartax-client.js';
import { isTerminalStatus, type ActivityKey, type StatusSnapshot } from '../upstream/cleartax.types.js';
import { hashToken } from '../token.js';
import type { Metrics } from '../metrics.js';

export interface StatusSourceOptions {
  client: ClearTaxClient;
  /** Upstream requests in flight at once; the rest wait in arrival order (p-limit is FIFO). */
  maxConcurrency: number;
  /** Terminal snapshots kept; 0 disables the cache. */
  terminalCacheSize: number;
  /** Age limit of a cached terminal snapshot. */
  terminalCacheTtlMs: number;
  metrics?: Metrics;
}

export interface StatusSourceStats {
  /** Reads that went to the client (each may retry inside it). */
  upstream: number;
  /** Reads that joined an identical read already in flight. */
  coalesced: number;
  /** Reads answered from the terminal cache. */
  cached: number;
}

export interface StatusSource {
  /**
   * The current status of one activity as seen with `token`. Concurrent calls for
   * the same (token, entity, activity) share one upstream request; terminal
   * snapshots are served from cache; non-terminal ones are always read fresh.
   * Rejects with the client's `UpstreamError`.
   */
  load(token: string, key: ActivityKey, options?: GetStatusOptions): Promise<StatusSnapshot>;
  readonly stats: Readonly<StatusSourceStats>;
}

/** The cache and coalescing key: the token only ever appears hashed. */
export function sourceKey(tokenHash: string, key: ActivityKey): string {
  return `${tokenHash}:${key.taxableEntityId}:${key.activityId}`;
}

/**
 * The process-wide way to read a status: below every per-request DataLoader and
 * the StatusWatcher. Dedupes across requests, caches what can never change, and
 * caps concurrency towards upstream.
 */
export function createStatusSource(options: StatusSourceOptions): StatusSource {
  const { client, metrics } = options;
  const limit = pLimit(options.maxConcurrency);
  const inFlight = new Map<string, Promise<StatusSnapshot>>();
  const terminal =
    options.terminalCacheSize > 0
      ? new LRUCache<string, StatusSnapshot>({ max: options.terminalCacheSize, ttl: options.terminalCacheTtlMs })
      : undefined;
  const stats: StatusSourceStats = { upstream: 0, coalesced: 0, cached: 0 };

  function load(token: string, key: ActivityKey, callOptions?: GetStatusOptions): Promise<StatusSnapshot> {
    const id = sourceKey(hashToken(token), key);
    const cached = terminal?.get(id);
    if (cached) {
      stats.cached += 1;
      metrics?.sourceLoads.inc({ outcome: 'cached' });
      return Promise.resolve(cached);
    }
    const running = inFlight.get(id);
    if (running) {
      stats.coalesced += 1;
      metrics?.sourceLoads.inc({ outcome: 'coalesced' });
      return running;
    }
    stats.upstream += 1;
    metrics?.sourceLoads.inc({ outcome: 'upstream' });
    const request = limit(async () => {
      metrics?.upstreamInFlight.inc();
      try {
        return await client.getStatus(token, key, callOptions);
      } finally {
        metrics?.upstreamInFlight.dec();
      }
    })
      .then((snapshot) => {
        if (terminal && isTerminalStatus(snapshot.rawStatus)) terminal.set(id, snapshot);
        return snapshot;
      })
      .finally(() => inFlight.delete(id));
    inFlight.set(id, request);
    return request;
  }

  return { load, stats };
}
