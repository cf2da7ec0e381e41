import { eventChanged, isFinalEvent, type StatusEvent } from '../domain/index.js';

/**
 * One GraphQL subscription's view of one or more watched keys: an async iterator
 * of status events that delivers each key's first state, then only changes, and
 * ends once every key has delivered a terminal status or an error.
 *
 * Memory stays bounded however slow the consumer: at most one undelivered event
 * per key is kept; a newer state replaces an older undelivered one (statuses are
 * states, so the consumer sees the latest; terminal states and errors are last and
 * are never lost).
 */
export interface StatusSubscription extends AsyncIterableIterator<StatusEvent> {
  /** Offers an event for one of its keys; ignored once that key is finished or the subscription closed. */
  offer(watchKey: string, event: StatusEvent): void;
  /** Ends the subscription now and releases every key. Idempotent, safe from any state. */
  close(): void;
  readonly isClosed: boolean;
  /** Events offered but not yet taken by the consumer (at most one per key). */
  readonly queued: number;
  /** Settles when the subscription has closed, by whatever path. */
  readonly closed: Promise<void>;
}

/**
 * @param watchKeys the distinct keys this subscription follows
 * @param release called exactly once, when the subscription ends by any path
 *   (completion, `return()`, `close()`), so the watcher can drop its refcounts
 */
/**
 * @param onDeliver called as each event is handed to the consumer (graphql-ws, which
 *   executes and writes it at once): the watcher measures delivery lag there
 */
export function createStatusSubscription(watchKeys: readonly string[], release: () => void, onDeliver?: (event: StatusEvent) => void): StatusSubscription {
  const open = new Set(watchKeys);
  const delivered = new Map<string, StatusEvent & { type: 'snapshot' }>();
  const pending = new Map<string, StatusEvent>();
  let waiter: ((result: IteratorResult<StatusEvent>) => void) | undefined;
  let isClosed = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));

  const done = (): IteratorResult<StatusEvent> => ({ value: undefined, done: true });

  function close(): void {
    if (isClosed) return;
    isClosed = true;
    pending.clear();
    delivered.clear();
    release();
    resolveClosed();
    const wake = waiter;
    waiter = undefined;
    wake?.(done());
  }

  /** Marks the event delivered and returns it; finishes its key if it was the last word. */
  function deliver(watchKey: string, event: StatusEvent): IteratorResult<StatusEvent> {
    onDeliver?.(event);
    if (event.type === 'snapshot') delivered.set(watchKey, event);
    if (isFinalEvent(event)) open.delete(watchKey);
    return { value: event, done: false };
  }

  function offer(watchKey: string, event: StatusEvent): void {
    if (isClosed || !open.has(watchKey)) return;
    if (event.type === 'snapshot') {
      const seen = delivered.get(watchKey);
      if (seen && !eventChanged(seen, event)) {
        // Back to what the consumer already has: an undelivered in-between state is moot.
        if (pending.get(watchKey)?.type === 'snapshot') pending.delete(watchKey);
        return;
      }
      if (pending.get(watchKey)?.type === 'error') return;
    }
    if (waiter) {
      const wake = waiter;
      waiter = undefined;
      wake(deliver(watchKey, event));
      return;
    }
    pending.delete(watchKey); // re-insert: keep delivery order by latest arrival
    pending.set(watchKey, event);
  }

  const iterator: StatusSubscription = {
    offer,
    close,
    get queued() {
      return pending.size;
    },
    get isClosed() {
      return isClosed;
    },
    closed,
    next() {
      if (isClosed) return Promise.resolve(done());
      const first = pending.entries().next();
      if (!first.done) {
        const [watchKey, event] = first.value;
        pending.delete(watchKey);
        return Promise.resolve(deliver(watchKey, event));
      }
      if (open.size === 0) {
        close();
        return Promise.resolve(done());
      }
      if (waiter) return Promise.reject(new Error('StatusSubscription.next() called while a call is pending'));
      return new Promise((resolve) => (waiter = resolve));
    },
    return() {
      close();
      return Promise.resolve(done());
    },
    throw(error?: unknown) {
      close();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
