import { eventChanged, eventVersion, isFinalEvent, type StatusEvent } from '../domain/index.js';
import type { SubscriptionEnd } from '../tracing.js';

/**
 * One GraphQL subscription's view of one or more watched keys: an async iterator
 * of status events that delivers each key's first state, then only changes, and
 * ends once every key has delivered a terminal status or an error.
 *
 * Memory stays bounded however slow the consumer: at most one undelivered event
 * per key is kept; a newer state replaces an older undelivered one (statuses are
 * states, so the consumer sees the latest; terminal states and errors are last and
 * are never lost).
 *
 * Delivery is idempotent per key: a snapshot event at or below the version the
 * subscriber already has (delivered, or waiting to be) is dropped, so a late,
 * repeated or replayed publish (another instance's, Redis's after it hung) can
 * never repeat or reorder anything.
 */
export interface StatusSubscription extends AsyncIterableIterator<StatusEvent> {
  /** Offers an event for one of its keys; ignored once that key is finished or the subscription closed. */
  offer(watchKey: string, event: StatusEvent): void;
  /**
   * Ends the subscription now and releases every key. Idempotent, safe from any state.
   * `end` says why (for tracing); by default it is judged from what was delivered:
   * an activity's error, else completed when every activity had its last word, else
   * the client gone.
   */
  close(end?: SubscriptionEnd): void;
  readonly isClosed: boolean;
  /** Events offered but not yet taken by the consumer (at most one per key). */
  readonly queued: number;
  /** Settles when the subscription has closed, by whatever path. */
  readonly closed: Promise<void>;
}

/**
 * @param watchKeys the distinct keys this subscription follows
 * @param release called exactly once, when the subscription ends by any path
 *   (completion, `return()`, `close()`), with why, so the watcher can drop its
 *   refcounts and record the end
 * @param onDeliver called as each event is handed to the consumer (graphql-ws, which
 *   executes and writes it at once): the watcher measures delivery lag there
 */
export function createStatusSubscription(
  watchKeys: readonly string[],
  release: (end: SubscriptionEnd) => void,
  onDeliver?: (event: StatusEvent) => void,
): StatusSubscription {
  return new KeyedSubscription(watchKeys, release, onDeliver);
}

const done = (): IteratorResult<StatusEvent> => ({ value: undefined, done: true });

/**
 * A class, not a factory of closures, on purpose: there is one per subscriber, and
 * prototype methods and lazily made maps cost a fraction of nine closures, their
 * scope and three hash tables each (measured with a heap snapshot per subscriber).
 */
class KeyedSubscription implements StatusSubscription {
  /** Keys that have not had their last word yet. */
  private readonly open: Set<string>;
  /**
   * The last snapshot event the consumer took, per key (made on first delivery); or a
   * later event of the same state and staleness, whose higher version it now has too.
   */
  private delivered: Map<string, StatusEvent & { type: 'snapshot' }> | undefined;
  /** Offered, not yet taken: at most one per key, in order of latest arrival (made on first need). */
  private pending: Map<string, StatusEvent> | undefined;
  private waiter: ((result: IteratorResult<StatusEvent>) => void) | undefined;
  private closedPromise: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;
  /** The code of the first error event delivered: why the subscription ended, for tracing. */
  private failedCode: string | undefined;
  isClosed = false;

  constructor(
    watchKeys: readonly string[],
    private readonly release: (end: SubscriptionEnd) => void,
    private readonly onDeliver: ((event: StatusEvent) => void) | undefined,
  ) {
    this.open = new Set(watchKeys);
  }

  get queued(): number {
    return this.pending?.size ?? 0;
  }

  get closed(): Promise<void> {
    this.closedPromise ??= this.isClosed
      ? Promise.resolve()
      : new Promise<void>((resolve) => (this.resolveClosed = resolve));
    return this.closedPromise;
  }

  close(end?: SubscriptionEnd): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.pending = undefined;
    this.delivered = undefined;
    this.release(end ?? this.judgedEnd());
    this.resolveClosed?.();
    const wake = this.waiter;
    this.waiter = undefined;
    wake?.(done());
  }

  private judgedEnd(): SubscriptionEnd {
    if (this.failedCode !== undefined) return { reason: 'error', code: this.failedCode };
    return this.open.size === 0 ? { reason: 'completed' } : { reason: 'client-gone' };
  }

  /** Marks the event delivered and returns it; finishes its key if it was the last word. */
  private deliver(watchKey: string, event: StatusEvent): IteratorResult<StatusEvent> {
    this.onDeliver?.(event);
    if (event.type === 'snapshot') (this.delivered ??= new Map()).set(watchKey, event);
    else this.failedCode ??= event.code;
    if (isFinalEvent(event)) this.open.delete(watchKey);
    return { value: event, done: false };
  }

  offer(watchKey: string, event: StatusEvent): void {
    if (this.isClosed || !this.open.has(watchKey)) return;
    if (event.type === 'snapshot') {
      const waiting = this.pending?.get(watchKey);
      if (waiting?.type === 'error') return;
      const seen = this.delivered?.get(watchKey);
      // At or below what the consumer has or will get: late, repeated or replayed. (NaN: unordered, kept.)
      const version = eventVersion(event);
      if (seen && version <= eventVersion(seen)) return;
      if (waiting?.type === 'snapshot' && version <= eventVersion(waiting)) return;
      if (seen && !eventChanged(seen, event)) {
        // Back to what the consumer already has: an undelivered in-between state is moot,
        // and anything older than this event is from now on too.
        if (waiting) this.pending!.delete(watchKey);
        this.delivered!.set(watchKey, event);
        return;
      }
    }
    if (this.waiter) {
      const wake = this.waiter;
      this.waiter = undefined;
      wake(this.deliver(watchKey, event));
      return;
    }
    const pending = (this.pending ??= new Map());
    pending.delete(watchKey); // re-insert: keep delivery order by latest arrival
    pending.set(watchKey, event);
  }

  next(): Promise<IteratorResult<StatusEvent>> {
    if (this.isClosed) return Promise.resolve(done());
    const first = this.pending?.entries().next();
    if (first && !first.done) {
      const [watchKey, event] = first.value;
      this.pending!.delete(watchKey);
      return Promise.resolve(this.deliver(watchKey, event));
    }
    if (this.open.size === 0) {
      this.close();
      return Promise.resolve(done());
    }
    if (this.waiter) return Promise.reject(new Error('StatusSubscription.next() called while a call is pending'));
    return new Promise((resolve) => (this.waiter = resolve));
  }

  return(): Promise<IteratorResult<StatusEvent>> {
    this.close();
    return Promise.resolve(done());
  }

  throw(error?: unknown): Promise<IteratorResult<StatusEvent>> {
    this.close();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
