import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { CloseCode, type Context } from 'graphql-ws';
import { WebSocketServer } from 'ws';
import type { Logger } from 'pino';
import { ErrorCode } from '../domain/index.js';
import { refusal } from '../errors.js';
import { positiveInt } from '../options.js';
import { requestScopeOf, type RequestScope } from '../request-scope.js';
import { OperationRecord, type AccessLog } from './access-log.js';
import { isClientGone, logOperationErrors } from './error-logging.js';
import {
  isRefused,
  OperationEnded,
  statusOf,
  type Lifetime,
  type OperationCore,
  type PreparedOperation,
  type Refused,
  type Session,
} from './core.js';
import { GatewayCloseCode } from './close-codes.js';

export interface WebSocketOptions<TSession, TContext> {
  httpServer: Server;
  /** e.g. '/graphql' */
  path: string;
  logger: Logger;
  /** One line per ended operation (ACCESS_LOG). */
  accessLog: AccessLog;
  /** The transport-free core: access, documents, limits, admission, masking. */
  core: OperationCore<TSession, TContext>;
  /** Operations one socket may run at once (MAX_SUBSCRIPTIONS_PER_CONNECTION). */
  maxOperationsPerConnection: number;
  /** Largest WebSocket message accepted, in bytes (MAX_BODY_BYTES). */
  maxPayloadBytes: number;
  /** Open sockets at most; past it, upgrades are answered 503 (MAX_CONNECTIONS). */
  maxConnections: number;
  /** Sustained messages per second on one socket (WS_MAX_MESSAGES_PER_SECOND), as a token bucket whose burst admits connection_init plus `maxOperationsPerConnection` subscribes; a flood past it is closed with 1008. */
  maxMessagesPerSecond: number;
  /** The client address of an upgrade request (the socket's peer, or the forwarded one behind trusted proxies). */
  clientAddress(request: IncomingMessage): string;
  /** Open sockets one client address (and, once known, one caller) may hold; past it, 503 at upgrade or close 4429 at init (MAX_CONNECTIONS_PER_ADDRESS). */
  maxConnectionsPerAddress: number;
  /** A socket that has not subscribed this long after its init is closed (1000 "Idle"), so idle sockets cannot pile up (WS_IDLE_TIMEOUT_MS). */
  idleTimeoutMs: number;
  /** Whether an upgrade may proceed at all (the Origin check); refused ones get 403 before the handshake. @default every upgrade */
  acceptUpgrade?: (request: IncomingMessage) => boolean;
}

export interface WebSocketEndpoint {
  /** Closes every socket with 1001 (going away) and ends their operations. Idempotent. */
  dispose(): Promise<void>;
  /** Open sockets right now (ws's own client set). */
  readonly connections: number;
}

/** What an operation asked for on a socket that is closing (or flooding) is answered. */
const closing = () => refusal(ErrorCode.UNAUTHENTICATED, 'Connection is closing');

/** Messages beyond connection_init and a full set of subscribes that a burst admits (pings, a complete or two). */
const BURST_HEADROOM = 10;

/**
 * One socket's message allowance: `capacity` tokens, refilled continuously at
 * `perSecond`; each message takes one. Hand-written: it is a few lines, synchronous
 * and per socket, where the rate-limit libraries are asynchronous and keyed stores.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt = performance.now();

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
  ) {
    this.tokens = capacity;
  }

  /** Takes one token; false when none is left. */
  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Per-connection state, kept off graphql-ws's context object. */
interface Connection<TSession> {
  session: Session<TSession>;
  /** From the upgrade request's X-Request-Id (when sane) or made; on every log line of its operations. */
  scope: RequestScope;
  /** What runs when the socket closes (every subscription it started). */
  closers: Set<() => void>;
  /** Operations currently running, by id: their count is the per-connection limit; each is one access-log line when it ends. */
  operations: Map<string, OperationRecord>;
  /** Closes the socket if it never subscribes; cleared by its first operation. */
  idle?: ReturnType<typeof setTimeout>;
  isClosed: boolean;
}

type WsContext = Context<Record<string, unknown> | undefined, { socket: unknown; request: IncomingMessage }>;

/**
 * graphql-ws (`graphql-transport-ws`) on the gateway's HTTP server and path: the
 * transport only. Parsing, validation and masking are the shared `prepare` step;
 * who may connect and what an operation's context holds are the caller's
 * (`accept`, `context`). Teardown is explicit: when a socket closes, everything an
 * operation registered on its scope runs, even for an operation still starting.
 */
export function createWebSocketEndpoint<TSession, TContext>(
  options: WebSocketOptions<TSession, TContext>,
): WebSocketEndpoint {
  const { logger, core } = options;
  // Messages are small GraphQL documents; refuse anything near ws's 100 MiB default.
  const maxPayloadBytes = positiveInt('maxPayloadBytes', options.maxPayloadBytes);
  const maxConnections = positiveInt('maxConnections', options.maxConnections);
  const maxMessagesPerSecond = positiveInt('maxMessagesPerSecond', options.maxMessagesPerSecond);
  positiveInt('maxOperationsPerConnection', options.maxOperationsPerConnection);
  positiveInt('maxConnectionsPerAddress', options.maxConnectionsPerAddress);
  positiveInt('idleTimeoutMs', options.idleTimeoutMs);
  const wsServer = new WebSocketServer({
    server: options.httpServer,
    path: options.path,
    maxPayload: maxPayloadBytes,
    // Refused before the handshake, so a flood of upgrades costs no socket state.
    verifyClient: (info, accept) => {
      if (options.acceptUpgrade && !options.acceptUpgrade(info.req)) return accept(false, 403, 'Origin not allowed');
      if (wsServer.clients.size >= maxConnections) return accept(false, 503, 'Too many connections');
      if ((perAddress.get(options.clientAddress(info.req)) ?? 0) >= options.maxConnectionsPerAddress)
        return accept(false, 503, 'Too many connections from this address');
      accept(true);
    },
  });
  /** Open sockets by client address, and accepted connections by caller key. */
  const perAddress = new Map<string, number>();
  const perCaller = new Map<string, number>();
  const count = (map: Map<string, number>, key: string, by: 1 | -1) => {
    const next = (map.get(key) ?? 0) + by;
    if (next > 0) map.set(key, next);
    else map.delete(key);
  };
  const connections = new WeakMap<WsContext, Connection<TSession>>();
  /** Sockets that sent too much: their messages are refused while their close completes. */
  const flooding = new WeakSet<object>();

  // Registered before graphql-ws's own handler, so it sees every message first. A token
  // bucket: it refills at `maxMessagesPerSecond`, and its burst always admits a
  // connection_init plus a full set of subscribes (what a board or Apollo Client sends
  // on load) plus a few pings, so opening every allowed subscription at once is never
  // punished, while a sustained flood still runs it dry.
  const burst = Math.max(maxMessagesPerSecond, 1 + options.maxOperationsPerConnection + BURST_HEADROOM);
  wsServer.on('connection', (socket, request) => {
    const address = options.clientAddress(request);
    count(perAddress, address, 1);
    socket.once('close', () => count(perAddress, address, -1));
    const bucket = new TokenBucket(burst, maxMessagesPerSecond);
    socket.on('message', () => {
      if (bucket.take() || flooding.has(socket)) return;
      flooding.add(socket);
      socket.close(GatewayCloseCode.TooManyMessages, 'Too many messages');
    });
  });

  function release(connection: Connection<TSession> | undefined): void {
    if (!connection || connection.isClosed) return;
    connection.isClosed = true;
    count(perCaller, connection.session.callerKey, -1);
    for (const close of connection.closers) close();
    connection.closers.clear();
    // Operations still running end with their socket.
    for (const record of connection.operations.values()) options.accessLog.write(record);
    connection.operations.clear();
  }

  function lifetimeOf(connection: Connection<TSession>): Lifetime {
    return {
      onClose(close) {
        if (connection.isClosed) {
          close();
          return () => undefined;
        }
        connection.closers.add(close);
        return () => connection.closers.delete(close);
      },
    };
  }

  /** Registers an accepted connection, or closes a refused one with its own code and reason. */
  function connect(ctx: WsContext, authenticated: Session<TSession> | Refused): boolean {
    const socket = ctx.extra.socket as { close(code: number, reason: string): void };
    // Our own close first, so the client reads why; graphql-ws's 4403 then finds the socket closing.
    if (isRefused(authenticated)) {
      const [error] = authenticated.refused;
      // An outage of ours (the key source is down: 503) is 1013 (try again later), which clients retry.
      if (statusOf(authenticated) === 503)
        socket.close(GatewayCloseCode.TryAgainLater, `Try again later: ${error?.message}`);
      else socket.close(CloseCode.Forbidden, `Forbidden: ${error?.message}`);
      return false;
    }
    if (authenticated.denied) {
      socket.close(CloseCode.Forbidden, `Forbidden: ${authenticated.denied.message}`);
      return false;
    }
    const { callerKey } = authenticated;
    if ((perCaller.get(callerKey) ?? 0) >= options.maxConnectionsPerAddress) {
      socket.close(GatewayCloseCode.TooManyConnectionsForCaller, 'Too many connections for this caller');
      return false;
    }
    count(perCaller, callerKey, 1);
    const scope = requestScopeOf(ctx.extra.request.headers, randomUUID);
    const connection: Connection<TSession> = {
      session: authenticated,
      scope,
      closers: new Set(),
      operations: new Map(),
      isClosed: false,
    };
    connections.set(ctx, connection);
    // A socket that never subscribes holds a slot for nothing.
    const idle = setTimeout(() => {
      if (connection.operations.size === 0) socket.close(GatewayCloseCode.Idle, 'Idle: no subscription');
    }, options.idleTimeoutMs);
    connection.closers.add(() => clearTimeout(idle));
    connection.idle = idle;
    const { expiresAt } = authenticated;
    if (expiresAt !== undefined) {
      const timer = setTimeout(
        () => socket.close(CloseCode.Forbidden, 'Forbidden: token expired'),
        Math.min(2 ** 31 - 1, Math.max(0, expiresAt - Date.now())),
      );
      connection.closers.add(() => clearTimeout(timer));
    }
    return true;
  }

  /** Each operation graphql-ws runs, by the execution arguments `onSubscribe` handed it. */
  const prepared = new WeakMap<ExecutionArgs, PreparedOperation<TContext>>();
  const preparedOf = (args: ExecutionArgs): PreparedOperation<TContext> => {
    const operation = prepared.get(args);
    if (!operation) throw new Error('An operation graphql-ws runs was not prepared by the core');
    return operation;
  };
  /** Errors the core already recorded, logged and masked (refusals): onError passes them on as they are. */
  const handled = new WeakSet<GraphQLError>();
  const passOn = (errors: readonly GraphQLError[]): GraphQLError[] => {
    for (const error of errors) handled.add(error);
    return [...errors];
  };

  const serverCleanup = useServer<Record<string, unknown> | undefined, { socket: unknown; request: IncomingMessage }>(
    {
      execute: (args) => preparedOf(args).execute(),
      subscribe: (args) => preparedOf(args).subscribe(),
      onConnect(ctx) {
        const { request } = ctx.extra;
        // Synchronous when access is: the acknowledgement then precedes any message read after it.
        const authenticated = core.authenticate({
          via: 'connection',
          headers: request.headers,
          remoteAddress: request.socket.remoteAddress,
          connectionParams: ctx.connectionParams,
        });
        return authenticated instanceof Promise
          ? authenticated.then((decided) => connect(ctx, decided))
          : connect(ctx, authenticated);
      },
      async onSubscribe(ctx, id, payload) {
        const connection = connections.get(ctx);
        const record = new OperationRecord(connection?.scope.requestId ?? '', 'ws');
        record.operationName = payload.operationName ?? null;
        /** A refusal before execution: its line is written now, as no completion follows. */
        const refuse = (errors: readonly GraphQLError[]) => {
          options.accessLog.write(record);
          return passOn(errors);
        };
        /** This adapter's own refusal (the core's come recorded and masked). */
        const refuseHere = (error: GraphQLError) => {
          record.failed([error]);
          return refuse(core.mask([error]));
        };
        if (!connection || connection.isClosed || flooding.has(ctx.extra.socket as object))
          return refuseHere(closing());
        if (connection.operations.size >= options.maxOperationsPerConnection) {
          return refuseHere(
            refusal(
              ErrorCode.BAD_USER_INPUT,
              `A connection may hold at most ${options.maxOperationsPerConnection} subscriptions`,
            ),
          );
        }
        const operation = await core.prepare(connection.session, payload, {
          request: connection.scope,
          record,
          lifetime: lifetimeOf(connection),
        });
        if (isRefused(operation)) return refuse(operation.refused);
        if (connection.isClosed) return refuseHere(closing());
        connection.operations.set(id, record);
        clearTimeout(connection.idle);
        prepared.set(operation.args, operation);
        return operation.args;
      },
      onError(ctx, id, payload, errors) {
        // Ended by the core (its errors recorded, logged and masked), or refused by it or by this adapter.
        if (errors.every((error) => handled.has(error))) return errors;
        const ended = errors.flatMap((error) =>
          error.originalError instanceof OperationEnded ? [error.originalError] : [],
        );
        if (ended.length === errors.length) return ended.flatMap((error) => error.errors);
        // The transport's own trouble, e.g. a write that met a vanished client (EPIPE, reset): that is the client going away, not a failure.
        const connection = connections.get(ctx);
        if (!isClientGone(errors)) connection?.operations.get(id)?.failed(errors);
        logOperationErrors(logger, errors, {
          transport: 'ws',
          operationName: payload.operationName,
          requestId: connection?.scope.requestId,
        });
        return core.mask(errors);
      },
      onComplete(ctx, id) {
        const operations = connections.get(ctx)?.operations;
        const record = operations?.get(id);
        if (!record) return;
        operations!.delete(id);
        options.accessLog.write(record);
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
      return wsServer.clients.size;
    },
  };
}
