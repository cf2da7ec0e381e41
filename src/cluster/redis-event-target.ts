import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { redisFailureReason, type RedisLink } from './redis-link.js';

export interface RedisEventTargetOptions {
  link: RedisLink;
  /** Channel prefix: topic `t` is channel `prefix + t`. */
  prefix: string;
  logger: Logger;
  /** First wait before a failed SUBSCRIBE is sent again; doubles per failed round. @default 500 */
  retryMs?: number;
  /** Longest wait between retries. @default 30000 */
  maxRetryMs?: number;
  /** While SUBSCRIBE keeps failing, it is logged again at most this often. @default 60000 */
  failureLogIntervalMs?: number;
}

/**
 * The EventTarget under the PubSub in cluster mode: an event dispatched here is
 * published on Redis (channel `prefix + topic`), and every instance's local
 * listeners get it from their subscription. While Redis is down, or when a publish
 * fails, the event is delivered locally instead, so this instance's subscribers miss
 * nothing.
 *
 * Subscriptions are this target's own: every topic with a listener is subscribed
 * on each `ready` of the subscriber connection (first connection and every
 * reconnection), and a SUBSCRIBE that fails (Redis refusing the channel, a
 * connection lost before the answer) is logged and sent again with backoff for as
 * long as the topic has listeners: an instance whose subscription silently failed
 * would get no other instance's events for that key.
 *
 * Written here rather than taken from @graphql-yoga/redis-event-target: that one only
 * publishes to Redis (no local delivery while Redis is down) and drops the publish
 * promise, whose rejection would end a Node 20 process.
 */
export function createRedisEventTarget(options: RedisEventTargetOptions): EventTarget {
  const { link, prefix, logger } = options;
  const retryMs = options.retryMs ?? 500;
  const maxRetryMs = options.maxRetryMs ?? 30_000;
  const failureLogIntervalMs = options.failureLogIntervalMs ?? 60_000;
  const { subscriber } = link;
  const local = new EventTarget();
  setMaxListeners(0, local);
  const listenersPerTopic = new Map<string, number>();
  /** Topics whose last SUBSCRIBE failed, to be sent again. */
  const failed = new Set<string>();
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelayMs = retryMs;
  let lastFailureLogAt = -Infinity;

  const deliver = (topic: string, detail: unknown) => local.dispatchEvent(new CustomEvent(topic, { detail }));
  subscriber.on('message', (channel: string, message: string) => {
    if (!channel.startsWith(prefix)) return;
    try {
      deliver(channel.slice(prefix.length), JSON.parse(message));
    } catch (error) {
      logger.error({ err: error, channel }, 'unreadable message on a status channel');
    }
  });

  /** Sends SUBSCRIBE for these topics now; a failure queues them for the next retry. Never rejects. */
  function subscribe(topics: readonly string[]): void {
    if (topics.length === 0) return;
    subscriber.subscribe(...topics.map((topic) => prefix + topic)).then(
      () => {
        let recovered = false;
        for (const topic of topics) recovered = failed.delete(topic) || recovered;
        if (recovered && failed.size === 0) {
          retryDelayMs = retryMs;
          lastFailureLogAt = -Infinity;
          logger.info('redis SUBSCRIBE succeeded again: events from other instances reach every watched key');
        }
      },
      (error: unknown) => {
        // Stopping, or nobody listens any more: nothing to retry.
        if (link.isStopped) return;
        const wanted = topics.filter((topic) => listenersPerTopic.has(topic));
        if (wanted.length === 0) return;
        for (const topic of wanted) failed.add(topic);
        const now = Date.now();
        if (now - lastFailureLogAt >= failureLogIntervalMs) {
          lastFailureLogAt = now;
          logger.warn(
            { reason: redisFailureReason(error), channels: failed.size, retryInMs: retryDelayMs },
            "redis SUBSCRIBE failed: this instance misses other instances' events on those keys until it succeeds; retrying",
          );
        }
        scheduleRetry();
      },
    );
  }

  /** In batches: one SUBSCRIBE per thousand channels, so a huge reconnection is not one huge command. */
  function subscribeAll(topics: readonly string[]): void {
    for (let i = 0; i < topics.length; i += 1000) subscribe(topics.slice(i, i + 1000));
  }

  function scheduleRetry(): void {
    if (retryTimer || link.isStopped) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (link.isStopped) return;
      for (const topic of failed) if (!listenersPerTopic.has(topic)) failed.delete(topic);
      // Connection away: its next `ready` subscribes every topic, these included.
      if (failed.size === 0 || subscriber.status !== 'ready') return;
      retryDelayMs = Math.min(maxRetryMs, retryDelayMs * 2);
      subscribeAll([...failed]);
    }, retryDelayMs);
    retryTimer.unref();
  }

  // A new connection has no subscriptions: subscribe every topic that has listeners (also after a failure).
  subscriber.on('ready', () => subscribeAll([...listenersPerTopic.keys()]));
  // Redis answers again after hanging (same connection): send what failed meanwhile now, not after the backoff.
  link.onChange((isUp) => {
    if (!isUp || subscriber.status !== 'ready' || failed.size === 0) return;
    for (const topic of failed) if (!listenersPerTopic.has(topic)) failed.delete(topic);
    subscribeAll([...failed]);
  });

  return {
    addEventListener(topic: string, listener: EventListenerOrEventListenerObject | null) {
      local.addEventListener(topic, listener);
      const count = (listenersPerTopic.get(topic) ?? 0) + 1;
      listenersPerTopic.set(topic, count);
      // Not ready: the next `ready` subscribes it.
      if (count === 1 && subscriber.status === 'ready') subscribe([topic]);
    },
    removeEventListener(topic: string, listener: EventListenerOrEventListenerObject | null) {
      local.removeEventListener(topic, listener);
      const count = (listenersPerTopic.get(topic) ?? 1) - 1;
      if (count > 0) return void listenersPerTopic.set(topic, count);
      listenersPerTopic.delete(topic);
      failed.delete(topic);
      // Not ready: the connection that comes back has no subscriptions to undo.
      if (subscriber.status === 'ready') subscriber.unsubscribe(prefix + topic).catch(() => undefined);
    },
    dispatchEvent(event: Event) {
      const detail: unknown = (event as CustomEvent).detail;
      if (!link.isUp) return deliver(event.type, detail);
      // A publish that timed out may still be executed by Redis later (a hung Redis that
      // resumes): its late copy reaches every instance, and each subscriber drops it by
      // the event's per-key version (status-subscription.ts).
      link.commands.publish(prefix + event.type, JSON.stringify(detail)).catch((error: unknown) => {
        link.reportFailure(error);
        deliver(event.type, detail);
      });
      return true;
    },
  };
}
