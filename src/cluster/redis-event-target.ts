import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { RedisLink } from './redis-link.js';

/**
 * The EventTarget under the PubSub in cluster mode: an event dispatched here is
 * published on Redis (channel `prefix + topic`), and every instance's local
 * listeners get it from their subscription. While Redis is down, or when a publish
 * fails, the event is delivered locally instead, so this instance's subscribers miss
 * nothing; subscriptions are replayed by ioredis on reconnect.
 *
 * Written here rather than taken from @graphql-yoga/redis-event-target: that one only
 * publishes to Redis (no local delivery while Redis is down) and drops the publish
 * promise, whose rejection would end a Node 20 process.
 */
export function createRedisEventTarget(options: { link: RedisLink; prefix: string; logger: Logger }): EventTarget {
  const { link, prefix, logger } = options;
  const local = new EventTarget();
  setMaxListeners(0, local);
  const listenersPerTopic = new Map<string, number>();

  const deliver = (topic: string, detail: unknown) => local.dispatchEvent(new CustomEvent(topic, { detail }));
  link.subscriber.on('message', (channel: string, message: string) => {
    if (!channel.startsWith(prefix)) return;
    try {
      deliver(channel.slice(prefix.length), JSON.parse(message));
    } catch (error) {
      logger.error({ err: error, channel }, 'unreadable message on a status channel');
    }
  });

  return {
    addEventListener(topic: string, listener: EventListenerOrEventListenerObject | null) {
      local.addEventListener(topic, listener);
      const count = (listenersPerTopic.get(topic) ?? 0) + 1;
      listenersPerTopic.set(topic, count);
      if (count === 1) link.subscriber.subscribe(prefix + topic).catch(() => undefined);
    },
    removeEventListener(topic: string, listener: EventListenerOrEventListenerObject | null) {
      local.removeEventListener(topic, listener);
      const count = (listenersPerTopic.get(topic) ?? 1) - 1;
      if (count > 0) return void listenersPerTopic.set(topic, count);
      listenersPerTopic.delete(topic);
      link.subscriber.unsubscribe(prefix + topic).catch(() => undefined);
    },
    dispatchEvent(event: Event) {
      const detail: unknown = (event as CustomEvent).detail;
      if (!link.isUp) return deliver(event.type, detail);
      link.commands.publish(prefix + event.type, JSON.stringify(detail)).catch(() => deliver(event.type, detail));
      return true;
    },
  };
}
