import type { Server } from 'node:http';
import { NoSchemaIntrospectionCustomRule, type GraphQLSchema } from 'graphql';
import type { ApolloServer } from '@apollo/server';
import type { Logger } from 'pino';
import { ErrorCode } from '../domain/index.js';
import { refusal } from '../errors.js';
import { buildAppSchema } from '../schema.js';
import { createAccessLog, type AccessLog } from '../server/access-log.js';
import {
  createOperationCore,
  type Credentials,
  type OperationCore,
  type Refused,
  type Session,
} from '../server/core.js';
import {
  type BrowserAccessOptions,
  createOriginRefusalLog,
  isAllowedHost,
  isAllowedUpgradeOrigin,
} from '../server/cors.js';
import { createApolloServer } from '../server/http.js';
import { operationLimitRules } from '../server/operation-limits.js';
import { createOperationPreparer, type Admit, type OperationPreparer } from '../server/operation.js';
import { createWebSocketEndpoint, type WebSocketEndpoint } from '../server/ws.js';
import { createSseHandler } from '../server/sse.js';
import { createStreamRegistry, type StreamRegistry } from '../server/streams.js';
import type { RequestHandler } from 'express';
import type { AccessResult } from '../access/caller.js';
import { createAccess } from '../access/create-access.js';
import { createClientAddress } from '../access/client-address.js';
import { createOperationGuard } from '../upload-activity/operation-guard.js';
import { createUploadActivityContext, type UploadActivityContext } from '../upload-activity/upload-activity.context.js';
import type { AppConfig, Core } from './core.js';
import type { Lifecycle } from './lifecycle.js';
import { loadTrustedDocuments } from './documents.js';

/** Retry-After of an AUTH_UNAVAILABLE answer: about how long a JWKS refetch cooldown lasts. */
const AUTH_RETRY_AFTER_SECONDS = 5;

/** The context of every GraphQL operation. */
export type OperationContext = UploadActivityContext;

/** What transports serve: the schema, the operation core every transport adapts, and the transports themselves. */
export interface Edge {
  readonly schema: GraphQLSchema;
  readonly core: OperationCore<AccessResult, OperationContext>;
  readonly prepare: OperationPreparer;
  readonly accessLog: AccessLog;
  /** CORS and the WebSocket Origin check. */
  readonly browser: BrowserAccessOptions;
  readonly webSocket: WebSocketEndpoint;
  /** Open HTTP streams (multipart and SSE). */
  readonly streams: StreamRegistry;
  /** GraphQL over SSE, for /graphql/stream. */
  readonly sse: RequestHandler;
  readonly apollo: ApolloServer<OperationContext>;
}

export interface EdgeDependencies {
  logger: Logger;
  lifecycle: Lifecycle;
  /** The server the transports attach to (WebSocket upgrades; Apollo's drain). */
  httpServer: Server;
}

/**
 * Builds the edge on a core: schema, access, the shared prepare step, the
 * transport-free operation core, then the transports (graphql-ws, Apollo) as thin
 * adapters of it. Starts Apollo; listens on nothing.
 */
export async function createEdge(config: AppConfig, core: Core, deps: EdgeDependencies): Promise<Edge> {
  const { logger, lifecycle, httpServer } = deps;
  const { source, watcher, verdicts, rateLimit, addressRateLimit, metrics } = core;
  const schema = await buildAppSchema({ pubSub: core.pubSub, federation: config.federationSubgraph });
  const clientAddress = createClientAddress(config.trustProxy);
  const access = await createAccess(config, logger, { verdicts, clientAddress });
  const prepare = createOperationPreparer({
    schema,
    maxTokens: config.maxQueryTokens,
    maxPendingDocuments: config.maxPendingDocuments,
    maxFragments: config.maxFragments,
    validationRules: [
      ...operationLimitRules({ maxDepth: config.maxQueryDepth, maxAliases: config.maxAliases }),
      // The same rule Apollo adds for HTTP, so every other transport refuses introspection too.
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
  /** Access's answer as a session: an outage of the key source refuses (503), a denied caller is marked. */
  const sessionOf = (result: AccessResult, credentials: Credentials): Session<AccessResult> | Refused => {
    // Fairness between callers for new documents: a verified JWT subject, or else the
    // client address, which (unlike a made-up ClearTax token) a client cannot multiply.
    const callerKey =
      config.authMode === 'jwt' && 'caller' in result ? result.caller.id : `ip:${clientAddress(credentials)}`;
    if ('caller' in result) return { value: result, callerKey, expiresAt: result.caller.expiresAt };
    if (result.denied.code === ErrorCode.AUTH_UNAVAILABLE) {
      return {
        refused: [
          refusal(ErrorCode.AUTH_UNAVAILABLE, result.denied.message, {
            status: 503,
            retryAfterSeconds: AUTH_RETRY_AFTER_SECONDS,
            retryAfterHeaderOnly: true,
          }),
        ],
      };
    }
    return {
      value: result,
      callerKey,
      denied: refusal(result.denied.code, result.denied.message, { status: 401 }),
    };
  };
  const documents = await loadTrustedDocuments(config, logger);
  const operationCore = createOperationCore<AccessResult, OperationContext>({
    schema,
    prepare,
    logger,
    admit,
    documents,
    authenticate(credentials) {
      const result =
        credentials.via === 'connection'
          ? access.fromConnection(credentials.connectionParams, credentials)
          : access.fromRequest(credentials);
      return result instanceof Promise
        ? result.then((settled) => sessionOf(settled, credentials))
        : sessionOf(result, credentials);
    },
    context: ({ value }, scope) =>
      createUploadActivityContext({
        source,
        watcher,
        reader: 'denied' in value ? value : value.caller,
        requestDeadlineMs: config.requestDeadlineMs,
        ...(scope.request.traceparent ? { traceparent: scope.request.traceparent } : {}),
        ...(scope.lifetime ? { connection: scope.lifetime } : {}),
      }),
  });
  const accessLog = createAccessLog({ logger: logger.child({ component: 'access' }), enabled: config.accessLog });
  const browser: BrowserAccessOptions = {
    origins: config.corsOrigins,
    trustProxy: config.trustProxy !== false && config.trustProxy !== 0,
    onRefused: createOriginRefusalLog(logger),
  };
  const presented = (request: { headers: Credentials['headers']; socket: { remoteAddress?: string | undefined } }) => ({
    headers: request.headers,
    remoteAddress: request.socket.remoteAddress,
  });
  const webSocket = createWebSocketEndpoint({
    httpServer,
    path: '/graphql',
    logger,
    accessLog,
    core: operationCore,
    maxOperationsPerConnection: config.maxSubscriptionsPerConnection,
    maxPayloadBytes: config.maxBodyBytes,
    maxConnections: config.maxConnections,
    maxMessagesPerSecond: config.wsMaxMessagesPerSecond,
    acceptUpgrade: (request) => isAllowedHost(request, config.allowedHosts) && isAllowedUpgradeOrigin(request, browser),
    clientAddress: (request) => clientAddress(presented(request)),
    maxConnectionsPerAddress: config.maxConnectionsPerAddress,
    idleTimeoutMs: config.wsIdleTimeoutMs,
  });
  const streams = createStreamRegistry({
    maxStreams: config.maxStreams,
    maxPerAddress: config.maxConnectionsPerAddress,
    clientAddress: (request) => clientAddress(presented(request)),
  });
  const sse = createSseHandler({ core: operationCore, streams, accessLog });
  metrics.observe({ webSocketConnections: () => webSocket.connections, httpStreams: () => streams.counts });
  lifecycle.onDispose('websocket', () => webSocket.dispose());
  const apollo = createApolloServer<OperationContext>({
    schema,
    httpServer,
    prepare,
    sandboxEnabled: config.sandboxEnabled,
    introspectionEnabled: config.introspectionEnabled,
    drainGraceMs: config.shutdownGraceMs,
    admit,
    persistedQueriesCache: documents.apqCache,
    logger,
    // Drain: sockets close with 1001 (going away) instead of being cut (1006).
    plugins: [
      {
        async serverWillStart() {
          return { drainServer: () => webSocket.dispose() };
        },
      },
    ],
  });
  await apollo.start();
  lifecycle.onDrain('http', async () => {
    // Reads still in flight when the grace is nearly spent are aborted, so their
    // requests answer UPSTREAM_UNAVAILABLE instead of being cut.
    const graceMs = config.shutdownGraceMs;
    const lastCall = setTimeout(
      () => source.abortAll('The gateway is shutting down'),
      Math.max(0, graceMs - Math.min(1000, graceMs / 5)),
    );
    try {
      await apollo.stop();
    } finally {
      clearTimeout(lastCall);
    }
  });
  // Registered after Apollo's, so it runs before it: every stream writes its normal end
  // (closing delimiter, `complete`) before the HTTP drain waits for connections to go.
  lifecycle.onDrain('streams', () => streams.closeAll());
  return { schema, core: operationCore, prepare, accessLog, browser, webSocket, apollo, streams, sse };
}
