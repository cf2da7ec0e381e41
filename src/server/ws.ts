import type { Server } from 'node:http';
import { GraphQLError, parse, specifiedRules, validate, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import { useServer } from 'graphql-ws/use/ws';
import type { Context } from 'graphql-ws';
import { WebSocketServer } from 'ws';
import type { Logger } from 'pino';
import { ErrorCode, GatewayError, maskError } from '../errors.js';
import type { RequestContext } from '../context.js';
import type { StatusSubscription } from '../upload-activity/status-subscription.js';
import { logOperationErrors } from './error-logging.js';
import { createSharedSubscribe } from './shared-subscribe.js';

export interface WebSocketOptions {
  httpServer: Server;
  schema: GraphQLSchema;
  path: string;
  logger: Logger;
  maxSubscriptionsPerConnection: number;
  /** The connection's token from its connectionParams (or the server fallback); undefined refuses it. */
  tokenFor(connectionParams: Readonly<Record<string, unknown>> | undefined): string | undefined;
  /** Builds one operation's context for a connection's token. */
  contextFor(token: string, track: (subscription: StatusSubscription) => void): RequestContext;
}

export interface WebSocketEndpoint {
  /** Closes every socket with 1001 (going away) and ends their subscriptions. Idempotent. */
  dispose(): Promise<void>;
  /** Open connections right now. */
  readonly connections: number;
}

/** Per-connection state, kept off graphql-ws's context object. */
interface Connection {
  token: string;
  /** Every subscription started on this socket, ended explicitly when it closes. */
  subscriptions: Set<StatusSubscription>;
  /** Operation ids currently running, for the per-connection limit. */
  operations: Set<string>;
  isClosed: boolean;
}

type WsContext = Context<Record<string, unknown> | undefined, { socket: unknown }>;

/**
 * graphql-ws (`graphql-transport-ws`) on the gateway's HTTP server and path. This
 * path runs outside Apollo's request pipeline, so it applies the same validation
 * rules, the same `maskError` and the same error logging itself. Teardown is
 * explicit: when a socket closes, every subscription it started is closed, even one
 * still starting or one whose iterator graphql-ws never got to return.
 */
export function createWebSocketEndpoint(options: WebSocketOptions): WebSocketEndpoint {
  const { logger } = options;
  // Messages are small GraphQL documents; refuse anything near ws's 100 MiB default.
  const wsServer = new WebSocketServer({ server: options.httpServer, path: options.path, maxPayload: 100 * 1024 });
  const connections = new WeakMap<WsContext, Connection>();
  let openConnections = 0;
  // Parsed and validated documents by query text, as Apollo's document store does
  // for HTTP: thousands of screens send the same few subscriptions, and one shared
  // immutable AST is both faster and far smaller than one per subscription.
  const documents = new LRUCache<string, DocumentNode>({ max: 1000 });

  const mask = (errors: readonly GraphQLError[]) =>
    errors.map((error) => {
      const formatted = maskError(error.toJSON(), error);
      return new GraphQLError(formatted.message, { extensions: formatted.extensions, path: formatted.path, nodes: error.nodes });
    });

  function release(connection: Connection | undefined): void {
    if (!connection || connection.isClosed) return;
    connection.isClosed = true;
    openConnections -= 1;
    for (const subscription of connection.subscriptions) subscription.close();
    connection.subscriptions.clear();
    connection.operations.clear();
  }

  const serverCleanup = useServer<Record<string, unknown> | undefined, { socket: unknown }>(
    {
      schema: options.schema,
      subscribe: createSharedSubscribe(),
      onConnect(ctx) {
        const token = options.tokenFor(ctx.connectionParams);
        if (token === undefined) {
          // Our own close first, so the client reads why; graphql-ws's 4403 then finds the socket closing.
          (ctx.extra.socket as { close(code: number, reason: string): void }).close(
            4403,
            'Forbidden: no ClearTax token; send connectionParams.authToken',
          );
          return false;
        }
        openConnections += 1;
        connections.set(ctx, { token, subscriptions: new Set(), operations: new Set(), isClosed: false });
        return true;
      },
      onSubscribe(ctx, id, payload) {
        const connection = connections.get(ctx);
        if (!connection || connection.isClosed) return [new GraphQLError('Connection is closing', { extensions: { code: ErrorCode.UNAUTHENTICATED } })];
        if (connection.operations.size >= options.maxSubscriptionsPerConnection) {
          return [
            new GraphQLError(`A connection may hold at most ${options.maxSubscriptionsPerConnection} subscriptions`, {
              extensions: { code: ErrorCode.BAD_USER_INPUT },
            }),
          ];
        }
        let document = documents.get(payload.query);
        if (!document) {
          try {
            document = parse(payload.query);
          } catch (error) {
            return [new GraphQLError((error as Error).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
          }
          const errors = validate(options.schema, document, specifiedRules);
          if (errors.length > 0) {
            return errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
          }
          documents.set(payload.query, document);
        }
        connection.operations.add(id);
        return {
          schema: options.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: options.contextFor(connection.token, (subscription) => {
            // A subscription that starts after its socket closed ends at once.
            if (connection.isClosed) subscription.close();
            else {
              connection.subscriptions.add(subscription);
              void subscription.closed.then(() => connection.subscriptions.delete(subscription));
            }
          }),
        };
      },
      onOperation(_ctx, _id, _payload, _args, result) {
        // Like Apollo, errors raised before execution (variable coercion) are the
        // client's: graphql-js returns them as a result without `data`.
        const execution = result as ExecutionResult;
        if (Symbol.asyncIterator in Object(result) || !execution.errors || 'data' in execution) return;
        return { ...execution, errors: execution.errors.map(asRequestError) };
      },
      onNext(_ctx, _id, payload, _args, result) {
        const execution = result as ExecutionResult;
        if (!execution.errors?.length) return;
        logOperationErrors(logger, execution.errors, { transport: 'ws', operationName: payload.operationName });
        return { ...execution, errors: mask(execution.errors) };
      },
      onError(_ctx, _id, payload, errors) {
        logOperationErrors(logger, errors, { transport: 'ws', operationName: payload.operationName });
        return mask(errors);
      },
      onComplete(ctx, id) {
        connections.get(ctx)?.operations.delete(id);
      },
      onClose(ctx) {
        release(connections.get(ctx));
      },
    },
    wsServer,
  );

  let disposing: Promise<void> | undefined;
  return {
    dispose() {
      disposing ??= Promise.resolve(serverCleanup.dispose());
      return disposing;
    },
    get connections() {
      return openConnections;
    },
  };
}

/** A pre-execution error without a code of its own is bad input (`BAD_USER_INPUT`). */
function asRequestError(error: GraphQLError): GraphQLError {
  if (error.path !== undefined || error.originalError instanceof GatewayError || error.extensions.code !== undefined) return error;
  return new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: ErrorCode.BAD_USER_INPUT } });
}
