import pLimit from 'p-limit';
import { LRUCache } from 'lru-cache';
import { isTerminalStatus, scopedKeyId, type ActivityKey, type StatusSnapshot } from '../domain/index.js';
import type { Metrics } from '../metrics.js';
import { hashToken } from '../token.js';
import type { ClearTaxClient } from '../upstream/cleartax-client.js';

export interface StatusSourceOptions {
  client: ClearTaxClient;
  /** Upstream requests in flight at once; the rest wait in arrival order, p-limit being FIFO (UPSTREAM_MAX_CONCURRENCY). @default none: required */
  maxConcurrency: number;
  /** Retries after the first attempt of a read that asks for no other number (UPSTREAM_RETRIES). @default none: required */
  retries: number;
  /** Terminal snapshots kept; 0 disables the cache (TERMINAL_CACHE_SIZE). @default none: required */
  terminalCacheSize: number;
  /** Age limit of a cached terminal snapshot (TERMINAL_CACHE_TTL_MS). @default none: required */
  terminalCacheTtlMs: number;
  /** @default no metrics */
  metrics?: Metrics;
}

export interface LoadOptions {
  /**
   * Retries after the first attempt. The watcher asks for 0: it polls again anyway,
   * and retrying inside a poll would multiply upstream load during an outage.
   * @default the source's `retries`
   */
  retries?: number;
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
   * the same (token, entity, activity) share one upstream request, as long as the
   * request in flight retries at least as often as the caller asked; terminal
   * snapshots are served from cache; non-terminal ones are always read fresh.
   * Rejects with the client's `UpstreamError`.
   */
  load(token: string, key: ActivityKey, options?: LoadOptions): Promise<StatusSnapshot>;
  /** `load` for each key, one entry per key in key order: a snapshot or that key's Error (never a rejection). */
  loadMany(token: string, keys: readonly ActivityKey[], options?: LoadOptions): Promise<(StatusSnapshot | Error)[]>;
  readonly stats: Readonly<StatusSourceStats>;
}

interface InFlight {
  readonly request: Promise<StatusSnapshot>;
  /** The retries this request was started with. */
  readonly retries: number;
}

/**
 * The process-wide way to read a status: below every per-request DataLoader and
 * the StatusWatcher. Dedupes across requests, caches what can never change, and
 * caps concurrency towards upstream.
 *
 * Coalescing is honest about retries: a read joins one in flight only when that
 * one retries at least as often as it would itself. A poll (no retries) may join a
 * query's read; a query never silently inherits a poll's single attempt, it starts
 * its own read (which later polls and queries then join).
 */
export function createStatusSource(options: StatusSourceOptions): StatusSource {
  const { client, metrics } = options;
  const limit = pLimit(options.maxConcurrency);
  const inFlight = new Map<string, InFlight>();
  const terminal =
    options.terminalCacheSize > 0
      ? new LRUCache<string, StatusSnapshot>({ max: options.terminalCacheSize, ttl: options.terminalCacheTtlMs })
      : undefined;
  const stats: StatusSourceStats = { upstream: 0, coalesced: 0, cached: 0 };

  function load(token: string, key: ActivityKey, loadOptions?: LoadOptions): Promise<StatusSnapshot> {
    const id = scopedKeyId(hashToken(token), key);
    const retries = loadOptions?.retries ?? options.retries;
    const cached = terminal?.get(id);
    if (cached) {
      stats.cached += 1;
      metrics?.sourceLoads.inc({ outcome: 'cached' });
      return Promise.resolve(cached);
    }
    const running = inFlight.get(id);
    if (running && running.retries >= retries) {
      stats.coalesced += 1;
      metrics?.sourceLoads.inc({ outcome: 'coalesced' });
      return running.request;
    }
    stats.upstream += 1;
    metrics?.sourceLoads.inc({ outcome: 'upstream' });
    const request = limit(async () => {
      metrics?.upstreamInFlight.inc();
      try {
        return await client.getStatus(token, key, { retries });
      } finally {
        metrics?.upstreamInFlight.dec();
      }
    })
      .then((snapshot) => {
        if (terminal && isTerminalStatus(snapshot.rawStatus)) terminal.set(id, snapshot);
        return snapshot;
      })
      .finally(() => {
        if (inFlight.get(id) === entry) inFlight.delete(id);
      });
    const entry: InFlight = { request, retries };
    inFlight.set(id, entry);
    return request;
  }

  function loadMany(token: string, keys: readonly ActivityKey[], loadOptions?: LoadOptions): Promise<(StatusSnapshot | Error)[]> {
    return Promise.all(keys.map((key) => load(token, key, loadOptions).catch((error: unknown) => toError(error))));
  }

  return { load, loadMany, stats };
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
