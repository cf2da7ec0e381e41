import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import express from 'express';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createRequestContext } from './context.js';
import { createMetrics, type Metrics } from './metrics.js';
import { buildAppSchema } from './schema.js';
import { createHealthRouter } from './server/health.js';
import { listen } from './server/listen.js';
import { createApolloServer, mountGraphQL } from './server/http.js';
import { createWebSocketEndpoint, type WebSocketEndpoint } from './server/ws.js';
import { createAppPubSub } from './pubsub.js';
import { resolveConnectionToken, resolveToken } from './token.js';
import { createClearTaxClient } from './upstream/cleartax-client.js';
import { createStatusSource, type StatusSource } from './upload-activity/status-source.js';
import { createStatusWatcher, type StatusWatcher } from './upload-activity/status-watcher.js';

export type AppConfig = Config & { cleartaxBaseUrl: string };

export interface App {
  /** Listens on `config.host:config.port` (0 = any free port); resolves to the GraphQL URL. */
  start(): Promise<string>;
  /** Drains HTTP, closes sockets, stops every poller. Idempotent. */
  stop(): Promise<void>;
  /** `http://host:port/graphql`, once started. */
  readonly url: string;
  readonly source: StatusSource;
  readonly watcher: StatusWatcher;
  readonly metrics: Metrics;
  /** Open WebSocket connections. */
  readonly connections: number;
}

/**
 * The composition root: the only place that builds collaborators and wires them.
 * Everything is created per app, so tests can run several side by side.
 */
export function createApp(config: AppConfig, deps: { logger: Logger }): App {
  const { logger } = deps;
  if (config.redisUrl) {
    logger.warn('REDIS_URL is set, but multi-instance mode is not implemented yet: PubSub and pollers stay in-process');
  }
  const metrics = createMetrics({ collectDefaults: true });
  const client = createClearTaxClient({
    baseUrl: config.cleartaxBaseUrl,
    timeoutMs: config.upstreamTimeoutMs,
    retries: config.upstreamRetries,
    retryBaseMs: config.upstreamRetryBaseMs,
    maxRetryAfterMs: config.upstreamMaxRetryAfterMs,
    logger: logger.child({ component: 'cleartax-client' }),
    onAttempt: ({ result, durationMs }) => {
      metrics.upstreamAttempts.inc({ result });
      metrics.upstreamDuration.observe({ result }, durationMs / 1000);
    },
  });
  const source = createStatusSource({
    client,
    maxConcurrency: config.upstreamMaxConcurrency,
    terminalCacheSize: config.terminalCacheSize,
    terminalCacheTtlMs: config.terminalCacheTtlMs,
    metrics,
  });
  const pubSub = createAppPubSub();
  const watcher = createStatusWatcher({
    source,
    pubSub,
    intervalMs: config.pollIntervalMs,
    maxIntervalMs: config.pollMaxIntervalMs,
    logger: logger.child({ component: 'status-watcher' }),
    metrics,
  });

  const httpServer: Server = createServer();
  let url = '';
  let stopping: Promise<void> | undefined;
  let started: Promise<string> | undefined;
  let ws: WebSocketEndpoint | undefined;

  async function start(): Promise<string> {
    const schema = await buildAppSchema({ pubSub });
    const endpoint = createWebSocketEndpoint({
      httpServer,
      schema,
      path: '/graphql',
      logger,
      maxSubscriptionsPerConnection: config.maxSubscriptionsPerConnection,
      tokenFor: (params) => resolveConnectionToken(params, config.cleartaxAuthToken),
      contextFor: (token, track) =>
        createRequestContext({ source, token, maxActivityIds: config.maxActivityIds, watcher, track }),
    });
    ws = endpoint;
    const apollo = createApolloServer({
      schema,
      httpServer,
      sandboxEnabled: config.sandboxEnabled,
      logger,
      // Drain: sockets close with 1001 (going away) instead of being cut (1006).
      plugins: [{ async serverWillStart() { return { drainServer: () => endpoint.dispose() }; } }],
    });
    await apollo.start();
    stopApollo = () => apollo.stop();

    const app = express();
    app.disable('x-powered-by');
    app.use(
      createHealthRouter({
        readiness: [{ name: 'upstream', check: () => client.ping() }],
        registry: metrics.registry,
      }),
    );
    mountGraphQL(app, apollo, (headers) =>
      createRequestContext({
        source,
        token: resolveToken(headers['x-cleartax-auth-token'], config.cleartaxAuthToken),
        maxActivityIds: config.maxActivityIds,
      }),
    );
    httpServer.on('request', app);

    url = `${await listen(httpServer, config.port, config.host)}/graphql`;
    logger.info({ url }, 'gateway listening');
    return url;
  }

  let stopApollo: () => Promise<void> = async () => {
    if (httpServer.listening) await new Promise<void>((resolve) => httpServer.close(() => resolve()));
  };

  return {
    start() {
      started ??= start();
      return started;
    },
    stop() {
      stopping ??= (async () => {
        await started?.catch(() => undefined);
        await stopApollo();
        await ws?.dispose();
        await watcher.stop();
        logger.info('gateway stopped');
      })();
      return stopping;
    },
    get url() {
      return url;
    },
    source,
    watcher,
    metrics,
    get connections() {
      return ws?.connections ?? 0;
    },
  };
}
