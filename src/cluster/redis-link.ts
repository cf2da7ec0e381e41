import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface RedisLink {
  /** Commands: no offline queue, so a command fails at once while Redis is away, never hangs. */
  readonly commands: Redis;
  /**
   * Pub/sub. ioredis does not resubscribe by itself (its own resubscription drops
   * failures as unhandled rejections): whoever subscribes here subscribes again on
   * every `ready` (see redis-event-target.ts).
   */
  readonly subscriber: Redis;
  /**
   * Both connections are ready and answer PING within the deadline. A hung Redis
   * (stopped process, TCP open, ioredis still "ready") counts as down, exactly as a
   * dead one does.
   */
  readonly isUp: boolean;
  /** `stop` was called: the connections are closing or closed for good. */
  readonly isStopped: boolean;
  /** Called on every change of `isUp`. */
  onChange(listener: (isUp: boolean) => void): void;
  /**
   * A command on `commands` failed with `error`: when it timed out, Redis counts as
   * not answering until a PING is answered again, so nothing else waits for the same
   * deadline meanwhile. Anything else is left to the connection's own events.
   */
  reportFailure(error: unknown): void;
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
  /** How often each connection is sent a PING. @default 1000 */
  pingIntervalMs?: number;
  /** A connection whose PING is not answered within this counts as down until one is. @default commandTimeoutMs */
  pingTimeoutMs?: number;
  /** While Redis stays down or unreachable, it is logged again at most this often. @default 60000 */
  downLogIntervalMs?: number;
}

/** ioredis's rejection of a command that outlived `commandTimeout`. */
export const isCommandTimeout = (error: unknown) => error instanceof Error && error.message === 'Command timed out';

/** Redis answered, and said no. */
const REFUSALS = new Set(['WRONGPASS', 'NOAUTH', 'NOPERM']);

/**
 * Why a connection attempt or a connection failed, in a word an operator can act
 * on: the socket error code (ECONNREFUSED, ENOTFOUND, ETIMEDOUT…) or Redis's own
 * refusal (WRONGPASS, NOAUTH, NOPERM). Never the message as is: only `secret`-free
 * text leaves this function.
 */
export function redisFailureReason(error: unknown, secret?: string): string {
  if (!(error instanceof Error)) return 'unknown';
  const refusal = /\b(WRONGPASS|NOAUTH|NOPERM)\b/.exec(error.message)?.[1];
  if (refusal) return refusal;
  const { code } = error as { code?: unknown };
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code)) return code;
  const message = secret ? error.message.split(secret).join('[redacted]') : error.message;
  return message.slice(0, 200) || error.name;
}

/**
 * Two ioredis connections to the cluster's Redis (one for commands, one for
 * subscriptions), reconnecting forever. Redis being down is a state, not an error:
 * every user of the link falls back to its in-process behaviour meanwhile. It is
 * logged at warn when Redis cannot be reached or refuses us (also when it never
 * was up), naming host, port and the reason, then at most once per
 * `downLogIntervalMs` while it stays so; at info when it is up again. Never the
 * URL or the password.
 */
export function createRedisLink(options: RedisLinkOptions): RedisLink {
  const { logger } = options;
  const downLogIntervalMs = options.downLogIntervalMs ?? 60_000;
  const common = {
    lazyConnect: false,
    connectTimeout: 2000,
    retryStrategy: () => options.reconnectMs ?? 500,
    maxRetriesPerRequest: 0,
  };
  const commandTimeoutMs = options.commandTimeoutMs ?? 1000;
  const pingIntervalMs = options.pingIntervalMs ?? 1000;
  const pingTimeoutMs = options.pingTimeoutMs ?? commandTimeoutMs;
  const commands = new Redis(options.url, { ...common, enableOfflineQueue: false, commandTimeout: commandTimeoutMs });
  // A SUBSCRIBE to a hung Redis fails after the deadline too (the event target retries it).
  const subscriber = new Redis(options.url, {
    ...common,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    autoResubscribe: false,
    commandTimeout: commandTimeoutMs,
  });
  const { host, port, password } = commands.options;
  const redis = `${host ?? '?'}:${port ?? '?'}`;
  const listeners: ((isUp: boolean) => void)[] = [];
  let wasUp = false;
  let wasEverUp = false;
  /** When the current outage (or failure to connect) began; undefined while up or before any failure. */
  let downSince: number | undefined;
  let lastWarnAt = -Infinity;
  let lastReason: string | undefined;
  let stopped: Promise<void> | undefined;

  /**
   * Per connection: whether it answers (reset on every `ready`: a new connection),
   * and the PING in flight, if any. `generation` tells a late answer from an older
   * connection apart.
   */
  interface Liveness {
    answers: boolean;
    pingTimer: NodeJS.Timeout | undefined;
    generation: number;
  }
  const liveness = new Map<Redis, Liveness>([
    [commands, { answers: true, pingTimer: undefined, generation: 0 }],
    [subscriber, { answers: true, pingTimer: undefined, generation: 0 }],
  ]);
  const answers = (connection: Redis) => liveness.get(connection)!.answers;
  const isUp = () =>
    commands.status === 'ready' && subscriber.status === 'ready' && answers(commands) && answers(subscriber);
  const warnDown = (now: number) => {
    const isFirst = lastWarnAt === -Infinity;
    lastWarnAt = now;
    const reason = lastReason ?? 'connection closed';
    const state = REFUSALS.has(reason) ? 'refusing our credentials' : wasEverUp ? 'down' : 'unreachable';
    if (isFirst) logger.warn({ redis, reason }, `redis is ${state}: serving from this instance alone until it is back`);
    else
      logger.warn(
        { redis, reason, downForMs: now - (downSince ?? now) },
        `redis is still ${state}: serving from this instance alone`,
      );
  };
  const check = () => {
    const up = isUp();
    if (up === wasUp || stopped) return;
    wasUp = up;
    const now = Date.now();
    if (up) {
      logger.info(
        { redis, ...(downSince !== undefined ? { downForMs: now - downSince } : {}) },
        'redis is up: cluster mode resumes',
      );
      wasEverUp = true;
      downSince = undefined;
      lastReason = undefined;
      lastWarnAt = -Infinity;
    } else {
      downSince = now;
      warnDown(now);
    }
    for (const listener of listeners) listener(up);
  };
  const onError = (error: unknown) => {
    if (stopped) return;
    // Kept while up too: a connection's error comes just before its close, which reports the outage.
    lastReason = redisFailureReason(error, password);
    if (isUp()) return;
    const now = Date.now();
    // Never up yet: the first failure is the news. Afterwards, at most one line per interval.
    downSince ??= now;
    if (now - lastWarnAt >= downLogIntervalMs) warnDown(now);
  };
  const setAnswers = (connection: Redis, value: boolean, reason?: string) => {
    const state = liveness.get(connection)!;
    if (state.answers === value) return;
    state.answers = value;
    if (!value && reason) lastReason = reason;
    check();
  };
  /** One PING at a time per ready connection; no answer within the deadline: down until one comes. */
  const ping = (connection: Redis) => {
    const state = liveness.get(connection)!;
    if (stopped || connection.status !== 'ready' || state.pingTimer) return;
    const { generation } = state;
    const settle = () => {
      if (state.generation !== generation) return false;
      clearTimeout(state.pingTimer);
      state.pingTimer = undefined;
      return true;
    };
    state.pingTimer = setTimeout(() => {
      // Still in flight: keep it (its answer brings the connection back), but judge now.
      if (state.generation === generation) setAnswers(connection, false, `no PING answer within ${pingTimeoutMs} ms`);
    }, pingTimeoutMs);
    state.pingTimer.unref();
    connection.ping().then(
      () => {
        if (settle()) setAnswers(connection, true);
      },
      (error: unknown) => {
        if (!settle()) return;
        if (isCommandTimeout(error)) setAnswers(connection, false, `no PING answer within ${pingTimeoutMs} ms`);
      },
    );
  };
  const pinger = setInterval(() => {
    for (const connection of liveness.keys()) ping(connection);
  }, pingIntervalMs);
  pinger.unref();

  for (const connection of [commands, subscriber]) {
    // A new connection starts afresh: a PING still pending belonged to the old one.
    const renew = () => {
      const state = liveness.get(connection)!;
      state.generation += 1;
      clearTimeout(state.pingTimer);
      state.pingTimer = undefined;
      state.answers = true;
    };
    connection.on('ready', renew);
    connection.on('close', renew);
    connection.on('ready', check);
    connection.on('close', check);
    connection.on('end', check);
    // Repeats on every reconnection attempt while Redis is away: logged as a state, throttled.
    connection.on('error', onError);
  }

  return {
    commands,
    subscriber,
    get isUp() {
      return isUp();
    },
    get isStopped() {
      return stopped !== undefined;
    },
    onChange(listener) {
      listeners.push(listener);
    },
    reportFailure(error) {
      if (isCommandTimeout(error)) setAnswers(commands, false, `a command got no answer within ${commandTimeoutMs} ms`);
    },
    stop() {
      if (!stopped) {
        clearInterval(pinger);
        for (const state of liveness.values()) clearTimeout(state.pingTimer);
      }
      stopped ??= Promise.all([
        commands.quit().catch(() => commands.disconnect()),
        subscriber.quit().catch(() => subscriber.disconnect()),
      ]).then(() => undefined);
      return stopped;
    },
  };
}
