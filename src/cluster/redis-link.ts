import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface RedisLink {
  /** Commands: no offline queue, so a command fails at once while Redis is away, never hangs. */
  readonly commands: Redis;
  /** Pub/sub: subscriptions are replayed by ioredis when it reconnects. */
  readonly subscriber: Redis;
  /** Both connections are ready. */
  readonly isUp: boolean;
  /** Called on every change of `isUp`. */
  onChange(listener: (isUp: boolean) => void): void;
  /** Closes both connections. Idempotent. */
  stop(): Promise<void>;
}

export interface RedisLinkOptions {
  /** REDIS_URL. */
  url: string;
  logger: Logger;
  /** Delay between reconnection attempts, forever. @default 500 */
  reconnectMs?: number;
  /** A command not answered within this fails (Redis hung, not gone). @default 1000 */
  commandTimeoutMs?: number;
}

/**
 * Two ioredis connections to the cluster's Redis (one for commands, one for
 * subscriptions), reconnecting forever. Redis being down is a state, not an error:
 * it is logged when it changes, and every user of the link falls back to its
 * in-process behaviour meanwhile.
 */
export function createRedisLink(options: RedisLinkOptions): RedisLink {
  const { logger } = options;
  const common = {
    lazyConnect: false,
    connectTimeout: 2000,
    retryStrategy: () => options.reconnectMs ?? 500,
    maxRetriesPerRequest: 0,
  };
  const commands = new Redis(options.url, { ...common, enableOfflineQueue: false, commandTimeout: options.commandTimeoutMs ?? 1000 });
  const subscriber = new Redis(options.url, { ...common, enableOfflineQueue: true, maxRetriesPerRequest: null });
  const listeners: ((isUp: boolean) => void)[] = [];
  let wasUp = false;
  let stopped: Promise<void> | undefined;

  const isUp = () => commands.status === 'ready' && subscriber.status === 'ready';
  const check = () => {
    const up = isUp();
    if (up === wasUp || stopped) return;
    wasUp = up;
    if (up) logger.info('redis is up: cluster mode resumes');
    else logger.warn('redis is down: serving from this instance alone until it is back');
    for (const listener of listeners) listener(up);
  };
  for (const connection of [commands, subscriber]) {
    connection.on('ready', check);
    connection.on('close', check);
    connection.on('end', check);
    // Errors while Redis is away repeat on every reconnection attempt; the state change says it once.
    connection.on('error', () => undefined);
  }

  return {
    commands,
    subscriber,
    get isUp() {
      return isUp();
    },
    onChange(listener) {
      listeners.push(listener);
    },
    stop() {
      stopped ??= Promise.all([commands.quit().catch(() => commands.disconnect()), subscriber.quit().catch(() => subscriber.disconnect())]).then(() => undefined);
      return stopped;
    },
  };
}
