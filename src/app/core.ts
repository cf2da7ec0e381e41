import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { createAppPubSub, type AppPubSub } from '../pubsub.js';
import { hashToken } from '../token.js';
import type { Cluster, createCluster } from '../cluster/index.js';
import { createRateLimit, type RateLimit } from '../access/rate-limit.js';
import { createTokenVerdicts, type TokenVerdicts } from '../access/token-verdicts.js';
import { createStatusSource, type StatusSource } from '../upload-activity/status-source.js';
import { createStatusWatcher, type StatusWatcher } from '../upload-activity/status-watcher.js';
import { createClearTaxClient, type ClearTaxClient } from '../upstream/cleartax-client.js';
import type { Lifecycle } from './lifecycle.js';
import { createTracing } from './telemetry.js';

/** The configuration with the upstream settled (the embedded simulator's URL when none was configured). */
export type AppConfig = Config & { cleartaxBaseUrl: string };

/**
 * What the gateway is without any transport: the upstream client, the shared
 * status source and watcher, PubSub, the rate limits, metrics and the optional
 * cluster. It listens on nothing; tests and benchmarks can build it alone.
 */
export interface Core {
  readonly client: ClearTaxClient;
  readonly source: StatusSource;
  readonly watcher: StatusWatcher;
  readonly pubSub: AppPubSub;
  readonly metrics: Metrics;
  /** passthrough: what ClearTax said of callers' tokens. */
  readonly verdicts: TokenVerdicts;
  /** Per caller (shared through Redis in multi-instance mode). */
  readonly rateLimit: RateLimit;
  /** Per client address, per instance: the coarse guard against invented callers. */
  readonly addressRateLimit: RateLimit;
  readonly cluster: Cluster | undefined;
}

export interface CoreDependencies {
  logger: Logger;
  lifecycle: Lifecycle;
  /** Multi-instance mode's factory (src/cluster/), loaded only when REDIS_URL is set. @default none: in-process */
  createCluster?: typeof createCluster | undefined;
}

export function createCore(config: AppConfig, deps: CoreDependencies): Core {
  const { logger, lifecycle } = deps;
  // Multi-instance mode: the same seams, on Redis.
  const cluster =
    config.redisUrl && deps.createCluster
      ? deps.createCluster({
          url: config.redisUrl,
          logger,
          pollIntervalMs: config.pollIntervalMs,
          pollMaxIntervalMs: config.pollMaxIntervalMs,
          terminalCacheTtlMs: config.terminalCacheTtlMs,
          rateLimitPerMinute: config.rateLimitPerMinute,
        })
      : undefined;
  if (cluster) lifecycle.onDispose('cluster', () => cluster.stop());
  const metrics = createMetrics({ collectDefaults: true });
  const verdicts = createTokenVerdicts({ maxDoubtfulPerAddress: config.maxNewTokensPerAddress });
  const client = createClearTaxClient({
    baseUrl: config.cleartaxBaseUrl,
    timeoutMs: config.upstreamTimeoutMs,
    retries: config.upstreamRetries,
    retryBaseMs: config.upstreamRetryBaseMs,
    maxRetryAfterMs: config.upstreamMaxRetryAfterMs,
    maxBodyBytes: config.upstreamMaxBodyBytes,
    logger: logger.child({ component: 'cleartax-client' }),
    isTraced: config.tracingEnabled,
    // Only callers' own tokens are judged: in jwt and open modes every read uses the server's.
    ...(config.authMode === 'passthrough'
      ? {
          onTokenVerdict: (token: string, verdict: 'accepted' | 'refused') =>
            verdicts.judged(hashToken(token), verdict),
        }
      : {}),
    onAttempt: ({ result, durationMs }) => {
      metrics.upstreamAttempts.inc({ result });
      metrics.upstreamDuration.observe({ result }, durationMs / 1000);
    },
  });
  const source = createStatusSource({
    client,
    maxConcurrency: config.upstreamMaxConcurrency,
    retries: config.upstreamRetries,
    terminalCacheSize: config.terminalCacheSize,
    terminalCacheTtlMs: config.terminalCacheTtlMs,
    terminalCacheMaxBytes: config.terminalCacheMaxBytes,
    ...(cluster ? { sharedTerminal: cluster.sharedTerminal } : {}),
    isRefusedToken: (tokenHash) => verdicts.isRefused(tokenHash),
    metrics,
  });
  const pubSub = createAppPubSub(cluster?.eventTarget);
  const watcher = createStatusWatcher({
    source,
    pubSub,
    intervalMs: config.pollIntervalMs,
    maxIntervalMs: config.pollMaxIntervalMs,
    staleAfterMs: config.staleAfterMs,
    onDeliveryLag: (lagMs) => metrics.deliveryLag.observe(lagMs / 1000),
    tracing: createTracing(config.tracingEnabled, {
      isShuttingDown: () => lifecycle.phase === 'draining' || lifecycle.phase === 'stopped',
    }),
    ...(cluster ? { lease: cluster.lease, store: cluster.store } : {}),
    logger: logger.child({ component: 'status-watcher' }),
  });
  lifecycle.onDispose('pollers', async () => {
    // Nobody is left to receive a poll's answer.
    source.abortAll('The gateway is shutting down');
    await watcher.stop();
  });
  const link = cluster?.link;
  metrics.observe({
    watcherSize: () => watcher.size,
    maxQueued: () => watcher.maxQueued(),
    ...(link ? { redisUp: () => link.isUp } : {}),
  });
  const rateLimit = createRateLimit({
    perMinute: config.rateLimitPerMinute,
    ...(cluster?.limiter ? { limiter: cluster.limiter } : {}),
  });
  const addressRateLimit = createRateLimit({ perMinute: config.rateLimitPerAddressPerMinute });
  return { client, source, watcher, pubSub, metrics, verdicts, rateLimit, addressRateLimit, cluster };
}
