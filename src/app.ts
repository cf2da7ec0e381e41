import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import express from 'express';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createAppPubSub } from './pubsub.js';
import { buildAppSchema } from './schema.js';
import { createHealthRouter } from './server/health.js';
import { createApolloServer, mountGraphQL } from './server/http.js';
import { listen } from './server/listen.js';
import { createOperationPreparer } from './server/operation.js';
import { createWebSocketEndpoint, type ConnectionScope, type WebSocketEndpoint } from './server/ws.js';
import { createSimulator, type Simulator, type SimulatorOptions } from './simulator/server.js';
import { resolveConnectionToken, resolveToken } from './token.js';
import { createUploadActivityContext, type UploadActivityContext } from './upload-activity/upload-activity.context.js';
import { createStatusSource, type StatusSource } from './upload-activity/status-source.js';
import { createStatusWatcher, type StatusWatcher } from './upload-activity/status-watcher.js';
import { createClearTaxClient } from './upstream/cleartax-client.js';

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
  /** Validated documents in the cache shared by HTTP and WebSocket. */
  readonly cachedDocuments: number;
}

/** The context of every GraphQL operation. */
type OperationContext = UploadActivityContext;

/**
 * The composition root: the only place that builds collaborators and wires them.
 * Everything is created per app, so tests can run several side by side.
 */
export function createApp(config: AppConfig, deps: { logger: Logger }): App {
  const { logger } = deps;
  if (config.redisUrl) {
    logger.warn('REDIS_URL is set, but multi-instance mode is not implemented yet: PubSub and pollers stay in-process');
  }
  const metrics = createMetrics({ collectDefaults: true, watcherSize: () => watcher.size });
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
    retries: config.upstreamRetries,
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
  });
  const operationContext = (token: string | undefined, connection?: ConnectionScope): OperationContext =>
    createUploadActivityContext({ source, watcher, token, maxActivityIds: config.maxActivityIds, ...(connection ? { connection } : {}) });

  const httpServer: Server = createServer();
  let url = '';
  let stopping: Promise<void> | undefined;
  let started: Promise<string> | undefined;
  let ws: WebSocketEndpoint | undefined;
  let cachedDocuments = () => 0;
  let stopApollo: () => Promise<void> = async () => {
    if (httpServer.listening) await new Promise<void>((resolve) => httpServer.close(() => resolve()));
  };

  async function start(): Promise<string> {
    const schema = await buildAppSchema({ pubSub });
    const prepare = createOperationPreparer({ schema });
    cachedDocuments = () => prepare.cachedDocuments;
    const endpoint = createWebSocketEndpoint({
      httpServer,
      schema,
      path: '/graphql',
      logger,
      prepare,
      maxOperationsPerConnection: config.maxSubscriptionsPerConnection,
      accept(params) {
        const token = resolveConnectionToken(params, config.cleartaxAuthToken);
        return token === undefined
          ? { refuse: { code: 4403, reason: 'Forbidden: no ClearTax token; send connectionParams.authToken' } }
          : { connection: token };
      },
      context: (token, scope) => operationContext(token, scope),
    });
    ws = endpoint;
    const apollo = createApolloServer<OperationContext>({
      schema,
      httpServer,
      prepare,
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
    mountGraphQL(app, apollo, (request) => operationContext(resolveToken(request.headers['x-cleartax-auth-token'], config.cleartaxAuthToken)));
    httpServer.on('request', app);

    url = `${await listen(httpServer, config.port, config.host)}/graphql`;
    logger.info({ url }, 'gateway listening');
    return url;
  }

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
    get cachedDocuments() {
      return cachedDocuments();
    },
  };
}

/** A started gateway, with the embedded simulator it runs against when no upstream is configured. */
export interface Gateway {
  readonly app: App;
  /** The embedded simulator, when `CLEARTAX_BASE_URL` is unset. */
  readonly simulator: Simulator | undefined;
  /** The upstream base URL in use. */
  readonly upstreamUrl: string;
  /** Stops the gateway, then the simulator. Idempotent. */
  stop(): Promise<void>;
}

export interface StartGatewayOptions {
  logger: Logger;
  /** Overrides for the embedded simulator (tests: clock off, no seed, delays). @default from config, seeded */
  simulator?: Partial<SimulatorOptions>;
}

/**
 * The one way to start the stack, for `main.ts`, the tests and the benchmarks:
 * without `CLEARTAX_BASE_URL`, the embedded simulator on loopback first; then the
 * gateway against whichever upstream that leaves.
 */
export async function startGateway(config: Config, options: StartGatewayOptions): Promise<Gateway> {
  let simulator: Simulator | undefined;
  let upstreamUrl = config.cleartaxBaseUrl;
  if (upstreamUrl === undefined) {
    // Loopback whatever HOST is: its control routes are unauthenticated.
    simulator = createSimulator({ host: '127.0.0.1', port: config.simulatorPort, stepMs: config.simulatorStepMs, shouldSeed: true, ...options.simulator });
    upstreamUrl = await simulator.start();
  }
  const app = createApp({ ...config, cleartaxBaseUrl: upstreamUrl }, { logger: options.logger });
  try {
    await app.start();
  } catch (error) {
    await Promise.all([app.stop(), simulator?.stop()]);
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    app,
    simulator,
    upstreamUrl,
    stop() {
      stopping ??= app.stop().finally(() => simulator?.stop());
      return stopping;
    },
  };
}
