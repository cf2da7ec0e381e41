/**
 * Watched keys and their subscribers. Counts are read from the sets themselves,
 * never kept by hand, so they cannot drift from who is really subscribed.
 */
export interface SubscriberRegistry<S> {
  /** Registers `subscriber` for `keyId`; true when it is the key's first. */
  add(keyId: string, subscriber: S): boolean;
  /** Unregisters; true when that left the key without subscribers (the key is then gone). */
  remove(keyId: string, subscriber: S): boolean;
  /** Forgets a key and all its registrations. */
  drop(keyId: string): void;
  /** The key's subscribers right now (a copy: safe to iterate while they leave). */
  subscribersOf(keyId: string): S[];
  has(keyId: string): boolean;
  /** Keys with at least one subscriber, and registrations over all keys. O(keys). */
  readonly size: { keys: number; subscriptions: number };
}

export function createSubscriberRegistry<S>(): SubscriberRegistry<S> {
  const byKey = new Map<string, Set<S>>();
  return {
    add(keyId, subscriber) {
      const subscribers = byKey.get(keyId);
      if (subscribers) {
        subscribers.add(subscriber);
        return false;
      }
      byKey.set(keyId, new Set([subscriber]));
      return true;
    },
    remove(keyId, subscriber) {
      const subscribers = byKey.get(keyId);
      if (!subscribers?.delete(subscriber) || subscribers.size > 0) return false;
      byKey.delete(keyId);
      return true;
    },
    drop(keyId) {
      byKey.delete(keyId);
    },
    subscribersOf(keyId) {
      return [...(byKey.get(keyId) ?? [])];
    },
    has(keyId) {
      return byKey.has(keyId);
    },
    get size() {
      let subscriptions = 0;
      for (const subscribers of byKey.values()) subscriptions += subscribers.size;
      return { keys: byKey.size, subscriptions };
    },
  };
}
