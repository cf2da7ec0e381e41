import type { Logger } from 'pino';
import { ErrorCode, GatewayError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { STATUS_TOPIC, type AppPubSub, type StatusEvent } from '../pubsub.js';
import { hashToken } from '../token.js';
import { isTerminalStatus, type ActivityKey, type StatusSnapshot } from '../upstream/cleartax.types.js';
import { UpstreamError } from '../upstream/upstream-error.js';
import { statusChanged } from './status-diff.js';
import { createStatusLoader } from './status-loader.js';
import { sourceKey, type StatusSource } from './status-source.js';
import { createStatusSubscription, type StatusSubscription } from './status-subscription.js';

export interface StatusWatcherOptions {
  source: StatusSource;
  pubSub: AppPubSub;
  /** Poll interval right after a change (POLL_INTERVAL_MS). */
  intervalMs: number;
  /** Ceiling of the adaptive interval and of error backoff (POLL_MAX_INTERVAL_MS). */
  maxIntervalMs: number;
  /** How much the interval grows per unchanged poll (default 1.5). */
  growthFactor?: number;
  logger: Logger;
  metrics?: Metrics;
}

export interface StatusWatcher {
  /**
   * Follows the given activities for `token`: the first event per activity is its
   * current state (cached no older than one interval, else read now), then one
   * event per change; the iterator ends once every activity is terminal or failed.
   */
  watch(token: string, keys: readonly ActivityKey[]): StatusSubscription;
  /** Completes every subscription and stops polling. Idempotent. */
  stop(): Promise<void>;
  /** Watched keys and subscriber registrations right now (for metrics and tests). */
  readonly size: { keys: number; subscriptions: number };
}

/** Codes after which polling cannot help: delivered as an error, then the key ends. */
const FINAL_CODES = new Set<ErrorCode>([ErrorCode.NOT_FOUND, ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN]);

interface WatchedKey {
  readonly id: string;
  readonly token: string;
  readonly key: ActivityKey;
  readonly subscribers: Set<StatusSubscription>;
  /** Latest snapshot read, the reference for change detection. */
  last: StatusSnapshot | undefined;
  intervalMs: number;
  errorCount: number;
  nextDueAt: number;
  /** False once a terminal status or final error was published. */
  isPolling: boolean;
  /** A subscriber is waiting for a first event: publish the next read even if unchanged. */
  shouldPublishNext: boolean;
  /** This key's PubSub feed, fanned out to local subscribers. */
  feed: AsyncIterator<StatusEvent>;
}

/**
 * The polling loop behind subscriptions: one poller per (token hash, entity,
 * activity) however many subscribers, refcounted; one scheduler timer (never one
 * per subscriber); each tick loads every due key through one DataLoader per token
 * over the shared StatusSource; changes go out through PubSub.
 *
 * Interval: `intervalMs` after a change, growing by `growthFactor` per unchanged
 * poll up to `maxIntervalMs`; after transient upstream errors, exponential backoff
 * with jitter up to `maxIntervalMs`, and never sooner than a 429's Retry-After.
 */
export function createStatusWatcher(options: StatusWatcherOptions): StatusWatcher {
  const { source, pubSub, intervalMs, maxIntervalMs, logger, metrics } = options;
  const growthFactor = options.growthFactor ?? 1.5;
  const watched = new Map<string, WatchedKey>();
  let registrations = 0;
  let timer: NodeJS.Timeout | undefined;
  let timerDueAt = Infinity;
  let ticking: Promise<void> | undefined;
  let isStopped = false;

  function updateGauges(): void {
    metrics?.watchedKeys.set(watched.size);
    metrics?.subscribers.set(registrations);
  }

  function attach(entryId: string, token: string, key: ActivityKey, subscription: StatusSubscription): void {
    let entry = watched.get(entryId);
    if (!entry) {
      entry = {
        id: entryId,
        token,
        key,
        subscribers: new Set(),
        last: undefined,
        intervalMs,
        errorCount: 0,
        nextDueAt: Date.now(),
        isPolling: true,
        shouldPublishNext: false,
        feed: pubSub.subscribe(STATUS_TOPIC, entryId)[Symbol.asyncIterator](),
      };
      watched.set(entryId, entry);
      pump(entry);
    }
    entry.subscribers.add(subscription);
    registrations += 1;
    const last = entry.last;
    if (last && (!entry.isPolling || Date.now() - Date.parse(last.fetchedAt) <= intervalMs)) {
      subscription.offer(entryId, { type: 'snapshot', snapshot: last });
    } else if (entry.isPolling) {
      entry.shouldPublishNext = true;
      entry.nextDueAt = Math.min(entry.nextDueAt, Date.now());
      scheduleAt(entry.nextDueAt);
    }
  }

  function detach(entryId: string, subscription: StatusSubscription): void {
    const entry = watched.get(entryId);
    if (!entry || !entry.subscribers.delete(subscription)) return;
    registrations -= 1;
    if (entry.subscribers.size === 0) dispose(entry);
    else updateGauges();
  }

  /** Forgets a key: no more polls, no more fan-out. Its subscribers have left or finished. */
  function dispose(entry: WatchedKey): void {
    if (watched.get(entry.id) !== entry) return;
    watched.delete(entry.id);
    registrations -= entry.subscribers.size;
    entry.subscribers.clear();
    entry.isPolling = false;
    void entry.feed.return?.();
    updateGauges();
  }

  /** Fans one key's PubSub events out to its local subscribers. */
  function pump(entry: WatchedKey): void {
    void (async () => {
      for (;;) {
        const { value: event, done } = await entry.feed.next();
        if (done) return;
        for (const subscription of [...entry.subscribers]) subscription.offer(entry.id, event);
        const isFinal = event.type === 'error' || isTerminalStatus(event.snapshot.rawStatus);
        if (isFinal) {
          dispose(entry);
          return;
        }
      }
    })().catch((error: unknown) => {
      logger.error({ err: error }, 'status feed failed');
      for (const subscription of [...entry.subscribers]) subscription.close();
      dispose(entry);
    });
  }

  function publish(entry: WatchedKey, event: StatusEvent): void {
    if (watched.get(entry.id) !== entry) return;
    pubSub.publish(STATUS_TOPIC, entry.id, event);
  }

  function onSnapshot(entry: WatchedKey, snapshot: StatusSnapshot, now: number): void {
    const isChange = statusChanged(entry.last, snapshot);
    entry.last = snapshot;
    entry.errorCount = 0;
    entry.intervalMs = isChange ? intervalMs : Math.min(maxIntervalMs, Math.round(entry.intervalMs * growthFactor));
    entry.nextDueAt = now + entry.intervalMs;
    if (isTerminalStatus(snapshot.rawStatus)) entry.isPolling = false;
    if (isChange || entry.shouldPublishNext) {
      entry.shouldPublishNext = false;
      publish(entry, { type: 'snapshot', snapshot });
    }
  }

  function onError(entry: WatchedKey, error: unknown, now: number): void {
    const code = error instanceof GatewayError ? error.code : ErrorCode.INTERNAL_SERVER_ERROR;
    if (error instanceof GatewayError && FINAL_CODES.has(code)) {
      entry.isPolling = false;
      publish(entry, {
        type: 'error',
        key: entry.key,
        code,
        message: error.message,
        ...(error.upstream ? { upstream: error.upstream } : {}),
      });
      return;
    }
    // Transient (5xx, timeout, 429, unreadable body): keep the subscription open, back off.
    entry.errorCount += 1;
    const backoff = Math.min(maxIntervalMs, intervalMs * 2 ** entry.errorCount * (0.75 + Math.random() * 0.5));
    const retryAfter = error instanceof UpstreamError ? (error.retryAfterMs ?? 0) : 0;
    entry.nextDueAt = now + Math.max(backoff, retryAfter);
    logger.warn({ code, errorCount: entry.errorCount, retryInMs: entry.nextDueAt - now, activityId: entry.key.activityId }, 'poll failed, backing off');
  }

  async function tick(): Promise<void> {
    const now = Date.now();
    const byToken = new Map<string, WatchedKey[]>();
    for (const entry of watched.values()) {
      if (!entry.isPolling || entry.nextDueAt > now) continue;
      const group = byToken.get(entry.token);
      if (group) group.push(entry);
      else byToken.set(entry.token, [entry]);
    }
    await Promise.all(
      [...byToken].map(([token, entries]) => {
        // One loader per token per tick: never longer-lived, so never stale.
        const loader = createStatusLoader(source, token, { retries: 0 });
        return Promise.all(
          entries.map((entry) =>
            loader.load(entry.key).then(
              (snapshot) => onSnapshot(entry, snapshot, Date.now()),
              (error: unknown) => onError(entry, error, Date.now()),
            ),
          ),
        );
      }),
    );
  }

  /**
   * Arms the single timer for `dueAt` unless it already fires sooner, or a tick is
   * running (which re-arms when done). O(1), so subscribing stays cheap with tens
   * of thousands of watched keys.
   */
  function scheduleAt(dueAt: number): void {
    if (isStopped || ticking || (timer && timerDueAt <= dueAt)) return;
    if (timer) clearTimeout(timer);
    timerDueAt = dueAt;
    timer = setTimeout(runTick, Math.max(0, dueAt - Date.now()));
  }

  /** After a tick: arms the timer for the earliest due key, if any. */
  function schedule(): void {
    let earliest = Infinity;
    for (const entry of watched.values()) if (entry.isPolling && entry.nextDueAt < earliest) earliest = entry.nextDueAt;
    if (earliest !== Infinity) scheduleAt(earliest);
  }

  function runTick(): void {
    timer = undefined;
    timerDueAt = Infinity;
    // Ticks never overlap: the next is armed only after this one settles.
    ticking = tick()
      .catch((error: unknown) => logger.error({ err: error }, 'watcher tick failed'))
      .finally(() => {
        ticking = undefined;
        schedule();
      });
  }

  return {
    watch(token, keys) {
      if (isStopped) throw new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'The gateway is shutting down');
      const tokenHash = hashToken(token);
      const byId = new Map<string, ActivityKey>();
      for (const key of keys) byId.set(sourceKey(tokenHash, key), key);
      const ids = [...byId.keys()];
      const subscription = createStatusSubscription(ids, () => {
        for (const id of ids) detach(id, subscription);
      });
      for (const [id, key] of byId) {
        if (subscription.isClosed) break;
        attach(id, token, key, subscription);
      }
      updateGauges();
      return subscription;
    },
    async stop() {
      isStopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      for (const entry of [...watched.values()]) {
        for (const subscription of [...entry.subscribers]) subscription.close();
        dispose(entry);
      }
      await ticking;
    },
    get size() {
      return { keys: watched.size, subscriptions: registrations };
    },
  };
}
