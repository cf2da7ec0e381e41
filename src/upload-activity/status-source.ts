import { LRUCache } from 'lru-cache';
import { ErrorCode, isTerminalStatus, scopedKeyId, type ActivityKey, type StatusSnapshot } from '../domain/index.js';
import type { Metrics } from '../metrics.js';
import { hashToken } from '../token.js';
import type { SnapshotStore } from '../snapshot-store.js';
import type { ClearTaxClient } from '../upstream/cleartax-client.js';
import { abortMessage, UpstreamError } from '../upstream/upstream-error.js';
import { createFairQueue } from '../fair-queue.js';
import { nonNegativeInt, positiveInt } from '../options.js';

export interface StatusSourceOptions {
  client: ClearTaxClient;
  /** Upstream requests in flight at once; the rest wait, served round robin between callers (UPSTREAM_MAX_CONCURRENCY). */
  maxConcurrency: number;
  /** Retries after the first attempt of a read that asks for no other number (UPSTREAM_RETRIES). */
  retries: number;
  /** Terminal snapshots kept; 0 disables the cache (TERMINAL_CACHE_SIZE). */
  terminalCacheSize: number;
  /** Age limit of a cached terminal snapshot (TERMINAL_CACHE_TTL_MS). */
  terminalCacheTtlMs: number;
  /** Estimated memory the terminal cache may hold: a long errorMessage must not multiply by the entry count (TERMINAL_CACHE_MAX_BYTES). */
  terminalCacheMaxBytes: number;
  /** @default no metrics */
  metrics?: Metrics;
  /**
   * Terminal snapshots shared with other instances (cluster mode): consulted on a
   * local cache miss, written when a read sees a terminal state.
   * @default none: this instance's cache only
   */
  sharedTerminal?: Pick<SnapshotStore, 'get' | 'set'>;
  /**
   * Whether upstream refused this token (by hash) a moment ago: its reads, queries
   * and polls alike, then fail UNAUTHENTICATED at once with no upstream call.
   * @default never
   */
  isRefusedToken?: (tokenHash: string) => boolean;
}

export interface LoadOptions {
  /**
   * Retries after the first attempt. The watcher asks for 0: it polls again anyway,
   * and retrying inside a poll would multiply upstream load during an outage.
   * @default the source's `retries`
   */
  retries?: number;
  /**
   * The caller's deadline. When it aborts, this call rejects at once with
   * UPSTREAM_UNAVAILABLE; the shared read goes on for whoever else waits for it,
   * and is cancelled (or leaves the queue) when nobody does.
   * @default none: waits as long as the read takes (bounded by the upstream timeout)
   */
  signal?: AbortSignal;
  /**
   * Opaque id of the caller for fair queueing, never a credential.
   * @default the token's hash
   */
  callerId?: string;
  /** W3C trace context of the request; a read it starts forwards it upstream. @default none */
  traceparent?: string;
}

export interface StatusSourceStats {
  /** Reads that went to the client (each may retry inside it). */
  upstream: number;
  /** Reads that joined an identical read already in flight. */
  coalesced: number;
  /** Reads answered from the terminal cache. */
  cached: number;
  /** Reads cancelled because every caller waiting for them gave up (deadline). */
  cancelled: number;
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
  /** Ends every read queued or in flight with UPSTREAM_UNAVAILABLE and `message` (shutdown). */
  abortAll(message: string): void;
  readonly stats: Readonly<StatusSourceStats>;
  /** The terminal cache right now: entries and their estimated bytes. */
  readonly terminalCache: { entries: number; bytes: number };
}

interface InFlight {
  readonly id: string;
  readonly request: Promise<StatusSnapshot>;
  /** The retries this request was started with. */
  readonly retries: number;
  /** Cancels the read: it leaves the queue, or its HTTP attempt is aborted. */
  readonly controller: AbortController;
  /** Callers waiting with a deadline; `Infinity` once one waits without (a poll). */
  waiters: number;
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
  const maxConcurrency = positiveInt('maxConcurrency', options.maxConcurrency);
  const defaultRetries = nonNegativeInt('retries', options.retries);
  const terminalCacheSize = nonNegativeInt('terminalCacheSize', options.terminalCacheSize);
  const terminalCacheTtlMs = positiveInt('terminalCacheTtlMs', options.terminalCacheTtlMs);
  const terminalCacheMaxBytes = positiveInt('terminalCacheMaxBytes', options.terminalCacheMaxBytes);
  const queue = createFairQueue({
    concurrency: maxConcurrency,
    onAbandon: deadlineError,
  });
  const inFlight = new Map<string, InFlight>();
  const terminal =
    terminalCacheSize > 0
      ? new LRUCache<string, StatusSnapshot>({
          max: terminalCacheSize,
          ttl: terminalCacheTtlMs,
          maxSize: terminalCacheMaxBytes,
          sizeCalculation: snapshotBytes,
        })
      : undefined;
  const stats: StatusSourceStats = { upstream: 0, coalesced: 0, cached: 0, cancelled: 0 };

  function load(token: string, key: ActivityKey, loadOptions: LoadOptions = {}): Promise<StatusSnapshot> {
    return loadHashed(token, hashToken(token), key, loadOptions);
  }

  /** `load` with the token's hash already made: a batch hashes its token once, not once per key. */
  function loadHashed(
    token: string,
    tokenHash: string,
    key: ActivityKey,
    loadOptions: LoadOptions,
  ): Promise<StatusSnapshot> {
    const { signal } = loadOptions;
    if (signal?.aborted) return Promise.reject(deadlineError(signal));
    if (options.isRefusedToken?.(tokenHash)) {
      return Promise.reject(
        new UpstreamError(
          ErrorCode.UNAUTHENTICATED,
          'ClearTax refused this token a moment ago: send a valid X-Cleartax-Auth-Token',
          { isRetryable: false },
        ),
      );
    }
    const id = scopedKeyId(tokenHash, key);
    const retries = loadOptions.retries ?? defaultRetries;
    const cached = terminal?.get(id);
    if (cached) {
      stats.cached += 1;
      metrics?.sourceLoads.inc({ outcome: 'cached' });
      return Promise.resolve(cached);
    }
    const { sharedTerminal } = options;
    if (!sharedTerminal || inFlight.has(id)) return readOrJoin(token, key, id, tokenHash, retries, loadOptions);
    return sharedTerminal.get(id).then((shared) => {
      if (shared && isTerminalStatus(shared.rawStatus)) {
        terminal?.set(id, shared);
        stats.cached += 1;
        metrics?.sourceLoads.inc({ outcome: 'cached' });
        return shared;
      }
      return readOrJoin(token, key, id, tokenHash, retries, loadOptions);
    });
  }

  function readOrJoin(
    token: string,
    key: ActivityKey,
    id: string,
    tokenHash: string,
    retries: number,
    loadOptions: LoadOptions,
  ): Promise<StatusSnapshot> {
    const { signal } = loadOptions;
    let entry = inFlight.get(id);
    if (entry && entry.retries >= retries) {
      stats.coalesced += 1;
      metrics?.sourceLoads.inc({ outcome: 'coalesced' });
    } else {
      entry = start(token, key, id, retries, loadOptions.callerId ?? tokenHash, loadOptions.traceparent);
    }
    return wait(entry, signal);
  }

  function start(
    token: string,
    key: ActivityKey,
    id: string,
    retries: number,
    callerId: string,
    traceparent: string | undefined,
  ): InFlight {
    stats.upstream += 1;
    metrics?.sourceLoads.inc({ outcome: 'upstream' });
    const controller = new AbortController();
    const request = queue
      .run(
        callerId,
        async () => {
          metrics?.upstreamInFlight.inc();
          try {
            return await client.getStatus(token, key, {
              retries,
              signal: controller.signal,
              ...(traceparent ? { traceparent } : {}),
            });
          } finally {
            metrics?.upstreamInFlight.dec();
          }
        },
        controller.signal,
      )
      .then((snapshot) => {
        if (isTerminalStatus(snapshot.rawStatus)) {
          terminal?.set(id, snapshot);
          void options.sharedTerminal?.set(id, snapshot);
        }
        return snapshot;
      })
      .finally(() => {
        if (inFlight.get(id) === entry) inFlight.delete(id);
      });
    // Every waiter may have left already; the outcome is then nobody's to handle.
    request.catch(() => undefined);
    const entry: InFlight = { id, request, retries, controller, waiters: 0 };
    inFlight.set(id, entry);
    return entry;
  }

  /** One caller's wait for a shared read, ended early by its own deadline. */
  function wait(entry: InFlight, signal: AbortSignal | undefined): Promise<StatusSnapshot> {
    if (!signal) {
      entry.waiters = Infinity;
      return entry.request;
    }
    entry.waiters += 1;
    return new Promise<StatusSnapshot>((resolve, reject) => {
      const onAbort = () => {
        entry.waiters -= 1;
        reject(deadlineError(signal));
        if (entry.waiters === 0 && inFlight.get(entry.id) === entry) {
          stats.cancelled += 1;
          entry.controller.abort(new Error('No caller waits for this read any more'));
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      entry.request.then(
        (snapshot) => {
          signal.removeEventListener('abort', onAbort);
          resolve(snapshot);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  function loadMany(
    token: string,
    keys: readonly ActivityKey[],
    loadOptions: LoadOptions = {},
  ): Promise<(StatusSnapshot | Error)[]> {
    const tokenHash = hashToken(token);
    return Promise.all(
      keys.map((key) => loadHashed(token, tokenHash, key, loadOptions).catch((error: unknown) => toError(error))),
    );
  }

  function abortAll(message: string): void {
    for (const entry of inFlight.values()) entry.controller.abort(new Error(message));
  }

  return {
    load,
    loadMany,
    abortAll,
    stats,
    get terminalCache() {
      return { entries: terminal?.size ?? 0, bytes: terminal?.calculatedSize ?? 0 };
    },
  };
}

/** The error a caller gets when its deadline passes before the read answers. */
function deadlineError(signal: AbortSignal): UpstreamError {
  return new UpstreamError(
    ErrorCode.UPSTREAM_UNAVAILABLE,
    abortMessage(signal, 'ClearTax did not answer before the request deadline', { timeoutSaysNothing: true }),
    {
      isRetryable: false,
    },
  );
}

/** Rough heap cost of a cached snapshot and its key: strings at two bytes a character, plus objects. */
function snapshotBytes(snapshot: StatusSnapshot, key: string): number {
  const text =
    key.length + snapshot.rawStatus.length + (snapshot.errorMessage?.length ?? 0) + snapshot.fetchedAt.length + 2 * 36;
  return 2 * text + 300;
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
