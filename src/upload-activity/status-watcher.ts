import type { Logger } from 'pino';
import {
  ErrorCode,
  isFinalEvent,
  scopedKeyId,
  type ActivityKey,
  type StatusEvent,
  type StatusSnapshot,
} from '../domain/index.js';
import { GatewayError } from '../errors.js';
import { positiveInt } from '../options.js';
import { createLocalPollLease, type PollLease } from '../poll-lease.js';
import { STATUS_TOPIC, type AppPubSub } from '../pubsub.js';
import { createLocalSnapshotStore, type SnapshotStore } from '../snapshot-store.js';
import { hashToken } from '../token.js';
import { noTracing, type PollSpan, type Tracing } from '../tracing.js';
import { UpstreamError } from '../upstream/upstream-error.js';
import { createPollScheduler, type PollOutcome } from './poll-scheduler.js';
import type { StatusSource } from './status-source.js';
import { createStatusSubscription, type StatusSubscription } from './status-subscription.js';
import { createSubscriberRegistry } from './subscriber-registry.js';
import { WatchedKeyState, type KeyDecision, type WatchedKeyStateOptions } from './watched-key.js';

export interface StatusWatcherOptions {
  source: StatusSource;
  /** Carries every event from the poll to the subscribers. */
  pubSub: AppPubSub;
  /** Who polls a key. @default the in-process lease (always this instance) */
  lease?: PollLease;
  /** The last snapshot per watched key. @default an in-process Map */
  store?: SnapshotStore;
  /** Poll interval right after a change, and the age up to which a known state serves a new subscriber (POLL_INTERVAL_MS). */
  intervalMs: number;
  /** Ceiling of the adaptive interval and of error backoff (POLL_MAX_INTERVAL_MS). */
  maxIntervalMs: number;
  /** How much the interval grows per unchanged poll. @default 1.5 */
  growthFactor?: number;
  /** Failed polling time after which subscribers get the last state with isStale: true (STALE_AFTER_MS). */
  staleAfterMs: number;
  /** Called with the time from an event's upstream read to its hand-over to the socket writer. @default no-op */
  onDeliveryLag?: (lagMs: number) => void;
  /** Spans of each poll and of each subscription's start and end. @default none (tracing off) */
  tracing?: Tracing;
  logger: Logger;
}

export interface StatusWatcher {
  /**
   * Follows the given activities for `token`: the first event per activity is its
   * current state (known no longer than one interval ago, else read now), then one
   * event per change; the iterator ends once every activity is terminal or failed.
   */
  watch(token: string, keys: readonly ActivityKey[]): StatusSubscription;
  /** Completes every subscription and stops polling. Idempotent. */
  stop(): Promise<void>;
  /** Watched keys and subscriber registrations right now (for metrics and tests). */
  readonly size: { keys: number; subscriptions: number };
  /** The most undelivered events any one subscriber holds right now (a slow consumer's backlog). O(subscribers). */
  maxQueued(): number;
}

/** What the watcher holds per watched key, besides its subscribers (registry) and schedule (scheduler). */
interface WatchedKey {
  readonly id: string;
  readonly token: string;
  readonly key: ActivityKey;
  /** The key's rules (what to publish, stale, finished, what a newcomer gets); the watcher does the I/O they decide. */
  readonly state: WatchedKeyState;
  /** This key's PubSub feed, fanned out to local subscribers. */
  feed: AsyncIterator<StatusEvent>;
}

/**
 * The polling loop behind subscriptions, composed of small seams: a scheduler
 * (one timer, due keys, adaptive interval and backoff), a registry (keys ↔
 * subscribers), a `PollLease` (who polls), a `SnapshotStore` (the last state per
 * key) and the PubSub (fan-out). One poller per (token hash, entity, activity)
 * however many subscribers; each key's read completes, publishes and reschedules
 * on its own.
 */
export function createStatusWatcher(options: StatusWatcherOptions): StatusWatcher {
  const { source, pubSub, logger } = options;
  const intervalMs = positiveInt('intervalMs', options.intervalMs);
  const maxIntervalMs = positiveInt('maxIntervalMs', options.maxIntervalMs);
  const staleAfterMs = positiveInt('staleAfterMs', options.staleAfterMs);
  const { onDeliveryLag } = options;
  const tracing = options.tracing ?? noTracing;
  // Lag of a fresh read only: a stale event, or a known state served to a newcomer, carries an older read time on purpose.
  const onDeliver = onDeliveryLag
    ? (event: StatusEvent) => {
        if (event.type === 'snapshot' && !event.isStale) {
          const lag = Date.now() - Date.parse(event.snapshot.fetchedAt);
          if (lag < intervalMs) onDeliveryLag(lag);
        }
      }
    : undefined;
  const lease = options.lease ?? createLocalPollLease();
  const store = options.store ?? createLocalSnapshotStore();
  const watched = new Map<string, WatchedKey>();
  const registry = createSubscriberRegistry<StatusSubscription>();
  const scheduler = createPollScheduler({
    intervalMs,
    maxIntervalMs,
    ...(options.growthFactor !== undefined ? { growthFactor: options.growthFactor } : {}),
    onDue: (id) => void poll(id),
  });
  const polls = new Set<Promise<void>>();
  let isStopped = false;

  // Read Date.now at each call, not once here: tests that fake Date after creating the watcher still move its clock.
  const stateOptions: WatchedKeyStateOptions = { intervalMs, staleAfterMs, now: () => Date.now() };

  function attach(id: string, token: string, key: ActivityKey, subscription: StatusSubscription): void {
    const isFirst = registry.add(id, subscription);
    let entry = watched.get(id);
    if (isFirst || !entry) {
      entry = {
        id,
        token,
        key,
        state: new WatchedKeyState(key, stateOptions),
        feed: pubSub.subscribe(STATUS_TOPIC, id)[Symbol.asyncIterator](),
      };
      watched.set(id, entry);
      pump(entry);
      scheduler.add(id);
      return; // due now: its first read is published
    }
    const known = entry.state.handOver();
    if (known) {
      subscription.offer(id, known);
      return;
    }
    const current = entry;
    void store.get(id).then((stored) => {
      if (watched.get(id) !== current || subscription.isClosed) return;
      const event = current.state.handOverStored(stored);
      if (event) subscription.offer(id, event);
      else scheduler.expedite(id);
    });
  }

  function detach(id: string, subscription: StatusSubscription): void {
    if (!registry.remove(id, subscription)) return;
    const entry = watched.get(id);
    if (entry) retire(entry);
  }

  /** Forgets a key: no more polls, no more fan-out. Its subscribers have left or had its last event. */
  function retire(entry: WatchedKey): void {
    if (watched.get(entry.id) !== entry) return;
    watched.delete(entry.id);
    registry.drop(entry.id);
    scheduler.remove(entry.id);
    entry.state.finish();
    void entry.feed.return?.();
    void lease.release(entry.id);
    void store.delete(entry.id);
  }

  /** Fans one key's PubSub events out to its local subscribers. */
  function pump(entry: WatchedKey): void {
    void (async () => {
      for (;;) {
        const { value: event, done } = await entry.feed.next();
        if (done) return;
        entry.state.received(event);
        for (const subscription of registry.subscribersOf(entry.id)) subscription.offer(entry.id, event);
        if (isFinalEvent(event)) {
          retire(entry);
          return;
        }
      }
    })().catch((error: unknown) => {
      logger.error({ err: error }, 'status feed failed');
      for (const subscription of registry.subscribersOf(entry.id))
        subscription.close({ reason: 'error', code: ErrorCode.INTERNAL_SERVER_ERROR });
      retire(entry);
    });
  }

  /** Carries out a key's decision: publish its event, and on a final one stop polling the key. */
  function act(entry: WatchedKey, decision: KeyDecision): void {
    if (decision.type === 'nothing' || watched.get(entry.id) !== entry) return;
    if (decision.type === 'finish') scheduler.remove(entry.id);
    // The PubSub round trip is the one path that Redis replaces: in cluster mode the lease holder publishes, every instance's feed delivers.
    pubSub.publish(STATUS_TOPIC, entry.id, decision.event);
  }

  /** One key's poll: claim, read, compare, publish, reschedule. Never rejects. */
  function poll(id: string): Promise<void> {
    const run = (async () => {
      const entry = watched.get(id);
      if (!entry || entry.state.isFinished) return;
      scheduler.settle(id, await tracing.poll(entry.key, (span) => read(entry, span)));
    })().catch((error: unknown) => {
      logger.error({ err: error }, 'poll failed unexpectedly');
      scheduler.settle(id, { type: 'failed' });
    });
    polls.add(run);
    void run.finally(() => polls.delete(run));
    return run;
  }

  /** Claims the key and reads it (or takes the stored state another instance read), then acts on the answer. */
  async function read(entry: WatchedKey, span: PollSpan): Promise<PollOutcome> {
    try {
      const isHolder = await lease.claim(entry.id);
      // Another instance polls this key. A local subscriber still waiting for its first
      // event gets the state the holder stored, when fresh; else this instance reads once.
      const stored = !isHolder && entry.state.shouldPublishNext ? await store.get(entry.id) : undefined;
      if (!isHolder && (!entry.state.shouldPublishNext || offerStored(entry, stored))) {
        span.report({ outcome: 'skipped' });
        return { type: 'skipped' };
      }
      const snapshot = await source.load(entry.token, entry.key, { retries: 0 });
      const outcome = onSnapshot(entry, snapshot);
      span.report({ outcome: outcome.type, httpStatus: 200 });
      return outcome;
    } catch (error) {
      const outcome = onError(entry, error);
      span.report({
        outcome: 'failed',
        httpStatus: error instanceof GatewayError ? error.upstream?.httpStatus : undefined,
        errorCode: error instanceof GatewayError ? error.code : ErrorCode.INTERNAL_SERVER_ERROR,
      });
      return outcome;
    }
  }

  /**
   * Hands a fresh stored state to the key's local subscribers (they drop what they already have, by version).
   * False when it is not fresh: this instance then reads once.
   */
  function offerStored(entry: WatchedKey, stored: StatusSnapshot | undefined): boolean {
    if (watched.get(entry.id) !== entry) return entry.state.isFresh(stored);
    const event = entry.state.takeStored(stored);
    if (!event) return false;
    for (const subscription of registry.subscribersOf(entry.id)) subscription.offer(entry.id, event);
    return true;
  }

  function onSnapshot(entry: WatchedKey, snapshot: StatusSnapshot): PollOutcome {
    if (watched.get(entry.id) !== entry) return { type: 'unchanged' };
    const decision = entry.state.read(snapshot);
    void store.set(entry.id, snapshot);
    act(entry, decision);
    return { type: decision.isChange ? 'changed' : 'unchanged' };
  }

  function onError(entry: WatchedKey, error: unknown): PollOutcome {
    // A final error code ends the key; a transient one (5xx, timeout, 429, unreadable body) keeps it
    // and backs off, and the state says when polls have failed long enough to call it stale.
    const decision = entry.state.failed(error);
    act(entry, decision);
    if (decision.isFinal) return { type: 'failed' };
    const code = error instanceof GatewayError ? error.code : ErrorCode.INTERNAL_SERVER_ERROR;
    const retryAfterMs = error instanceof UpstreamError ? error.retryAfterMs : undefined;
    // Outages are logged once, as a state change, by the client's outage log.
    logger.debug({ code, activityId: entry.key.activityId }, 'poll failed, backing off');
    return retryAfterMs === undefined ? { type: 'failed' } : { type: 'failed', retryAfterMs };
  }

  return {
    watch(token, keys) {
      if (isStopped) throw new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'The gateway is shutting down');
      const tokenHash = hashToken(token);
      const byId = new Map<string, ActivityKey>();
      for (const key of keys) {
        const id = scopedKeyId(tokenHash, key);
        // The watched entry's own id string: one copy per key, not one per subscriber.
        byId.set(watched.get(id)?.id ?? id, key);
      }
      const ids = [...byId.keys()];
      const trace = tracing.subscriptionStarted(keys);
      const subscription = createStatusSubscription(
        ids,
        (end) => {
          for (const id of ids) detach(id, subscription);
          trace.ended(end);
        },
        onDeliver,
      );
      for (const [id, key] of byId) {
        if (subscription.isClosed) break;
        attach(id, token, key, subscription);
      }
      return subscription;
    },
    async stop() {
      isStopped = true;
      scheduler.stop();
      for (const entry of [...watched.values()]) {
        for (const subscription of registry.subscribersOf(entry.id)) subscription.close({ reason: 'shutdown' });
        retire(entry);
      }
      await Promise.all(polls);
    },
    get size() {
      return registry.size;
    },
    maxQueued() {
      let max = 0;
      for (const id of watched.keys())
        for (const subscription of registry.subscribersOf(id)) max = Math.max(max, subscription.queued);
      return max;
    },
  };
}
