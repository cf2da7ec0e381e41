import 'reflect-metadata';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import helmet from 'helmet';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import { CloseCode } from 'graphql-ws';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { ErrorCode } from './domain/index.js';
import { refusal } from './errors.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createAppPubSub } from './pubsub.js';
import { buildAppSchema } from './schema.js';
import { createHealthRouter, createMetricsRouter } from './server/health.js';
import { requestScope, scopeOfRequest } from './server/request-id.js';
import type { RequestScope } from './request-scope.js';
import { createApolloServer, mountGraphQL } from './server/http.js';
import { listen } from './server/listen.js';
import { createOperationPreparer, type Admit } from './server/operation.js';
import { GatewayCloseCode } from './server/close-codes.js';
import { createWebSocketEndpoint, type Acceptance, type ConnectionScope, type WebSocketEndpoint } from './server/ws.js';
import { createAccessLog } from './server/access-log.js';
import { createSimulator, SEED_ENTITY_ID, type Simulator, type SimulatorOptions } from './simulator/server.js';
import { createAccess } from './access/create-access.js';
import { createTokenVerdicts } from './access/token-verdicts.js';
import { hashToken } from './token.js';
import type { createCluster } from './cluster/index.js';
import type { AccessResult, Presented } from './access/caller.js';
import { createClientAddress } from './access/client-address.js';
import { createRateLimit } from './access/rate-limit.js';
import {
  allowedHostsOnly,
  corsFor,
  createOriginRefusalLog,
  isAllowedHost,
  isAllowedUpgradeOrigin,
} from './server/cors.js';
import { operationLimitRules } from './server/operation-limits.js';
import { createOperationGuard } from './upload-activity/operation-guard.js';
import { createUploadActivityContext, type UploadActivityContext } from './upload-activity/upload-activity.context.js';
import { createStatusSource, type StatusSource } from './upload-activity/status-source.js';
import { createStatusWatcher, type StatusWatcher } from './upload-activity/status-watcher.js';
import { createClearTaxClient } from './upstream/cleartax-client.js';

export type AppConfig = Config & { cleartaxBaseUrl: string };

/** Retry-After of an AUTH_UNAVAILABLE answer: about how long a JWKS refetch cooldown lasts. */
const AUTH_RETRY_AFTER_SECONDS = 5;

export interface App {
  /** Listens on `config.host:config.port` (0 = any free port); resolves to the GraphQL URL. */
  start(): Promise<string>;
  /** Drains HTTP, closes sockets, stops every poller. Idempotent. */
  stop(): Promise<void>;
  /** `http://host:port/graphql`, once started. */
  readonly url: string;
  /** Where /metrics is served: its own port (METRICS_PORT) or the main one. */
  readonly metricsUrl: string;
  readonly source: StatusSource;
  readonly watcher: StatusWatcher;
  readonly metrics: Metrics;
  /** Open WebSocket connections. */
  readonly connections: number;
  /** The validated-document cache shared by HTTP and WebSocket: entries and estimated bytes. */
  readonly documentCache: { documents: number; bytes: number };
}

/** The context of every GraphQL operation. */
type OperationContext = UploadActivityContext;

/**
 * The composition root: the only place that builds collaborators and wires them.
 * Everything is created per app, so tests can run several side by side.
 */
export interface AppDependencies {
  logger: Logger;
  /** The demo activities to show on the board (embedded simulator only). @default none */
  demo?: () => { taxableEntityId: string; activityIds: string[] };
  /** Multi-instance mode's factory (src/cluster/), loaded only when REDIS_URL is set. @default none: in-process */
  createCluster?: typeof createCluster;
}

export function createApp(config: AppConfig, deps: AppDependencies): App {
  const { logger } = deps;
  // dist/web: beside dist/server when compiled, ../dist/web from src/ under tsx (never web/, the sources).
  const isCompiled = fileURLToPath(import.meta.url).includes(`${sep}dist${sep}server${sep}`);
  const webAppDir = fileURLToPath(new URL(isCompiled ? '../web/' : '../dist/web/', import.meta.url));
  // Multi-instance mode: the same seams, on Redis (src/cluster/, loaded by startGateway only with REDIS_URL).
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
  const link = cluster?.link;
  const metrics = createMetrics({
    collectDefaults: true,
    watcherSize: () => watcher.size,
    maxQueued: () => watcher.maxQueued(),
    webSocketConnections: () => ws?.connections ?? 0,
    ...(link ? { redisUp: () => link.isUp } : {}),
  });
  // passthrough: what ClearTax said of callers' tokens, so invented ones cannot reach it at will.
  const verdicts = createTokenVerdicts({ maxDoubtfulPerAddress: config.maxNewTokensPerAddress });
  const client = createClearTaxClient({
    baseUrl: config.cleartaxBaseUrl,
    timeoutMs: config.upstreamTimeoutMs,
    retries: config.upstreamRetries,
    retryBaseMs: config.upstreamRetryBaseMs,
    maxRetryAfterMs: config.upstreamMaxRetryAfterMs,
    maxBodyBytes: config.upstreamMaxBodyBytes,
    logger: logger.child({ component: 'cleartax-client' }),
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
    ...(cluster ? { lease: cluster.lease, store: cluster.store } : {}),
    logger: logger.child({ component: 'status-watcher' }),
  });
  // Per instance also in multi-instance mode: the address limit is the coarse guard against invented callers.
  const addressRateLimit = createRateLimit({ perMinute: config.rateLimitPerAddressPerMinute });
  const rateLimit = createRateLimit({
    perMinute: config.rateLimitPerMinute,
    ...(cluster?.limiter ? { limiter: cluster.limiter } : {}),
  });
  const operationContext = (
    access: AccessResult,
    request: RequestScope,
    connection?: ConnectionScope,
  ): OperationContext =>
    createUploadActivityContext({
      source,
      watcher,
      reader: 'denied' in access ? access : access.caller,
      requestDeadlineMs: config.requestDeadlineMs,
      ...(request.traceparent ? { traceparent: request.traceparent } : {}),
      ...(connection ? { connection } : {}),
    });

  const httpServer: Server = createServer();
  const metricsServer: Server = createServer();
  let url = '';
  let metricsUrl = '';
  let isStopping = false;
  let stopping: Promise<void> | undefined;
  let started: Promise<string> | undefined;
  let ws: WebSocketEndpoint | undefined;
  let documentCache = () => ({ documents: 0, bytes: 0 });
  let stopApollo: () => Promise<void> = async () => {
    if (httpServer.listening) await new Promise<void>((resolve) => httpServer.close(() => resolve()));
  };

  async function start(): Promise<string> {
    const schema = await buildAppSchema({ pubSub });
    const clientAddress = createClientAddress(config.trustProxy);
    const access = await createAccess(config, logger, { verdicts, clientAddress });
    const prepare = createOperationPreparer({
      schema,
      maxTokens: config.maxQueryTokens,
      maxPendingDocuments: config.maxPendingDocuments,
      maxFragments: config.maxFragments,
      validationRules: [
        ...operationLimitRules({ maxDepth: config.maxQueryDepth, maxAliases: config.maxAliases }),
        // The same rule Apollo adds for HTTP, so WebSocket refuses introspection too.
        ...(config.introspectionEnabled ? [] : [NoSchemaIntrospectionCustomRule]),
      ],
    });
    const guard = createOperationGuard({
      schema,
      maxActivityIds: config.maxActivityIds,
      maxOperationIds: config.maxOperationIds,
      rateLimit,
      addressRateLimit,
    });
    const admit: Admit<OperationContext> = async (operation) => {
      const callerId = operation.contextValue.callerId;
      // Where callers are not verified (passthrough, open), their client address is charged too.
      const addressKey = config.authMode === 'jwt' ? undefined : operation.callerKey;
      return {
        ...(await guard({
          document: operation.document,
          operationName: operation.operationName,
          variables: operation.variables,
          callerId,
          addressKey,
        })),
        callerId,
      };
    };
    const accessLog = createAccessLog({ logger: logger.child({ component: 'access' }), enabled: config.accessLog });
    const browser = {
      origins: config.corsOrigins,
      trustProxy: config.trustProxy !== false && config.trustProxy !== 0,
      onRefused: createOriginRefusalLog(logger),
    };
    const presented = (request: IncomingMessage) => ({
      headers: request.headers,
      remoteAddress: request.socket.remoteAddress,
    });
    // Fairness between callers for new documents: a verified JWT subject, or else the
    // client address, which (unlike a made-up ClearTax token) a client cannot multiply.
    const callerKey = (result: AccessResult, request: Presented) =>
      config.authMode === 'jwt' && 'caller' in result ? result.caller.id : `ip:${clientAddress(request)}`;
    documentCache = () => prepare.cache;
    const endpoint = createWebSocketEndpoint({
      httpServer,
      schema,
      path: '/graphql',
      logger,
      accessLog,
      prepare,
      maxOperationsPerConnection: config.maxSubscriptionsPerConnection,
      maxPayloadBytes: config.maxBodyBytes,
      maxConnections: config.maxConnections,
      maxMessagesPerSecond: config.wsMaxMessagesPerSecond,
      accept(params, request) {
        const toAcceptance = (result: AccessResult): Acceptance<AccessResult> => {
          if ('denied' in result) {
            // A key-source outage is ours, not the caller's: 1013 (try again later), which clients retry.
            if (result.denied.code === ErrorCode.AUTH_UNAVAILABLE)
              return {
                refuse: { code: GatewayCloseCode.TryAgainLater, reason: `Try again later: ${result.denied.message}` },
              };
            return { refuse: { code: CloseCode.Forbidden, reason: `Forbidden: ${result.denied.message}` } };
          }
          const { expiresAt } = result.caller;
          return {
            connection: result,
            ...(expiresAt !== undefined
              ? { closeAt: { at: expiresAt, code: CloseCode.Forbidden, reason: 'Forbidden: token expired' } }
              : {}),
          };
        };
        const result = access.fromConnection(params, presented(request));
        return result instanceof Promise ? result.then(toAcceptance) : toAcceptance(result);
      },
      acceptUpgrade: (request) =>
        isAllowedHost(request, config.allowedHosts) && isAllowedUpgradeOrigin(request, browser),
      admit,
      callerKey: (result, request) => callerKey(result, presented(request)),
      clientAddress: (request) => clientAddress(presented(request)),
      maxConnectionsPerAddress: config.maxConnectionsPerAddress,
      idleTimeoutMs: config.wsIdleTimeoutMs,
      context: (result, scope, request) => operationContext(result, request, scope),
    });
    ws = endpoint;
    const apollo = createApolloServer<OperationContext>({
      schema,
      httpServer,
      prepare,
      sandboxEnabled: config.sandboxEnabled,
      introspectionEnabled: config.introspectionEnabled,
      drainGraceMs: config.shutdownGraceMs,
      admit,
      logger,
      // Drain: sockets close with 1001 (going away) instead of being cut (1006).
      plugins: [
        {
          async serverWillStart() {
            return { drainServer: () => endpoint.dispose() };
          },
        },
      ],
    });
    await apollo.start();
    stopApollo = () => apollo.stop();

    const app = express();
    app.disable('x-powered-by');
    app.use(requestScope());
    app.use((_req, res, next) => {
      // Draining: no answer keeps its connection open for another request.
      if (isStopping) res.setHeader('Connection', 'close');
      next();
    });
    app.use(allowedHostsOnly(config.allowedHosts));
    app.use('/graphql', corsFor(browser));
    app.use(
      createHealthRouter({
        checks: [{ name: 'upstream', check: () => client.ping() }],
        isUnavailable: () => isStopping,
        ...(link ? { redis: () => (link.isUp ? 'ok' : 'down') } : {}),
      }),
    );
    if (config.metricsPort === undefined) app.use(createMetricsRouter(metrics.registry));
    // What the board needs before its first query: the access mode, and the demo ids with the simulator.
    app.get('/app-config.json', (_req, res) => {
      res.json({ authMode: config.authMode, ...(deps.demo ? { demo: deps.demo() } : {}) });
    });
    if (config.webAppEnabled) {
      if (existsSync(`${webAppDir}/index.html`))
        app.use(webAppRoutes(webAppDir, { isProduction: config.isProduction }));
      else logger.warn({ webAppDir }, 'WEB_APP_ENABLED, but the web app is not built: run npm run build');
    }
    mountGraphQL(app, apollo, {
      context: async (request) => {
        const result = await access.fromRequest(presented(request));
        if ('denied' in result && result.denied.code === ErrorCode.AUTH_UNAVAILABLE) {
          throw refusal(ErrorCode.AUTH_UNAVAILABLE, result.denied.message, {
            status: 503,
            retryAfterSeconds: AUTH_RETRY_AFTER_SECONDS,
            retryAfterHeaderOnly: true,
          });
        }
        return {
          context: operationContext(result, scopeOfRequest(request)),
          callerKey: callerKey(result, presented(request)),
        };
      },
      maxBodyBytes: config.maxBodyBytes,
      logger,
      accessLog,
      prepare,
    });
    httpServer.on('request', app);

    if (config.metricsPort !== undefined) {
      const metricsApp = express();
      metricsApp.disable('x-powered-by');
      metricsApp.use(createMetricsRouter(metrics.registry));
      metricsServer.on('request', metricsApp);
      metricsUrl = `${await listen(metricsServer, config.metricsPort, config.metricsHost)}/metrics`;
      logger.info({ url: metricsUrl }, 'metrics listening');
    }
    url = `${await listen(httpServer, config.port, config.host)}/graphql`;
    logger.info({ url }, 'gateway listening');
    return url;
  }

  /**
   * Drains HTTP and WebSocket. Reads still in flight when the grace is nearly spent
   * are aborted, so their requests answer UPSTREAM_UNAVAILABLE instead of being cut.
   */
  async function stop(): Promise<void> {
    isStopping = true;
    await started?.catch(() => undefined);
    const abortReads = () => source.abortAll('The gateway is shutting down');
    const graceMs = config.shutdownGraceMs;
    const lastCall = setTimeout(abortReads, Math.max(0, graceMs - Math.min(1000, graceMs / 5)));
    try {
      // The notice: still listening, /readyz 503, every answer `Connection: close`, so the
      // load balancer stops sending and keep-alive clients move on before any socket is cut.
      if (config.shutdownNoticeMs > 0 && httpServer.listening)
        await new Promise((resolve) => setTimeout(resolve, config.shutdownNoticeMs));
      await stopApollo();
      await ws?.dispose();
      // Nobody is left to receive a poll's answer.
      abortReads();
      await watcher.stop();
      await cluster?.stop();
      if (metricsServer.listening) await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
    } finally {
      clearTimeout(lastCall);
    }
    logger.info('gateway stopped');
  }

  return {
    start() {
      started ??= start();
      return started;
    },
    stop() {
      stopping ??= stop();
      return stopping;
    },
    get url() {
      return url;
    },
    get metricsUrl() {
      return metricsUrl || url.replace(/\/graphql$/, '/metrics');
    },
    source,
    watcher,
    metrics,
    get connections() {
      return ws?.connections ?? 0;
    },
    get documentCache() {
      return documentCache();
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
    simulator = createSimulator({
      host: '127.0.0.1',
      port: config.simulatorPort,
      stepMs: config.simulatorStepMs,
      shouldSeed: true,
      demoEverySteps: 2,
      ...options.simulator,
    });
    upstreamUrl = await simulator.start();
    options.logger.warn(
      { upstream: upstreamUrl },
      'CLEARTAX_BASE_URL is unset: serving SIMULATED data from the embedded simulator',
    );
  }
  const sim = simulator;
  // Loaded only when needed: ioredis alone adds ~20 MB to an idle instance.
  const cluster = config.redisUrl ? await import('./cluster/index.js') : undefined;
  const app = createApp(
    { ...config, cleartaxBaseUrl: upstreamUrl },
    {
      logger: options.logger,
      ...(cluster ? { createCluster: cluster.createCluster } : {}),
      ...(sim
        ? {
            demo: () => ({
              taxableEntityId: SEED_ENTITY_ID,
              activityIds: sim.demoActivities().map((a) => a.activityId),
            }),
          }
        : {}),
    },
  );
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

/**
 * The board's files, with the security headers a page needs (helmet: a strict
 * Content-Security-Policy, nosniff, frame protection; not on /graphql, whose
 * Sandbox loads from Apollo's CDN). index.html is revalidated every time (it names
 * the hashed bundles), the content-hashed assets are cached for a year as
 * immutable, and source maps are not served in production.
 */
function webAppRoutes(dir: string, options: { isProduction: boolean }): express.Router {
  const router = express.Router();
  // /graphql (and Sandbox) is not the board's: leave it to the GraphQL routes.
  router.use((req, _res, next) =>
    next(req.path === '/graphql' || req.path.startsWith('/graphql/') ? 'router' : undefined),
  );
  router.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      // The board is same-origin only; Sandbox and cross-origin API use are elsewhere.
      crossOriginEmbedderPolicy: false,
    }),
  );
  if (options.isProduction)
    router.use((req, res, next) => (req.path.endsWith('.map') ? res.status(404).end() : next()));
  router.use(
    express.static(dir, {
      index: 'index.html',
      setHeaders(res: ServerResponse, path: string) {
        if (path.endsWith('.html')) res.setHeader('Cache-Control', 'no-cache');
        else if (path.includes(`${sep}assets${sep}`))
          res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
        else res.setHeader('Cache-Control', 'no-cache');
      },
    }),
  );
  return router;
}
