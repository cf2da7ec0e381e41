import type { Server } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import { getOperationAST, GraphQLError, type GraphQLSchema } from 'graphql';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import type { Logger } from 'pino';
import { maskError, refusal } from '../errors.js';
import { nonNegativeInt, positiveInt } from '../options.js';
import { logOperationErrors } from './error-logging.js';
import { OperationRecord, type AccessLog } from './access-log.js';
import type { Admit, EndTurn, OperationPreparer } from './operation.js';
import {
  headersOf,
  isRefused,
  statusOf,
  type OperationCore,
  type OperationRequest,
  type Refused,
  type Session,
} from './core.js';
import { streamedResults } from './live.js';
import { acceptsMultipartSubscription, writeMultipart } from './multipart.js';
import type { StreamRegistry } from './streams.js';
import type { DocumentReference, DocumentTextCache } from './trusted-documents.js';
import { scopeOfRequest } from './request-id.js';

export interface ApolloOptions<TContext extends BaseContext> {
  schema: GraphQLSchema;
  httpServer: Server;
  /** The shared parse/validate step (the same one the WebSocket path uses). */
  prepare: OperationPreparer;
  /** Apollo Sandbox as the landing page at /graphql (SANDBOX_ENABLED). */
  sandboxEnabled: boolean;
  /** Schema introspection (INTROSPECTION_ENABLED). */
  introspectionEnabled: boolean;
  /** How long a drain waits for requests in flight before cutting them (SHUTDOWN_GRACE_MS). */
  drainGraceMs: number;
  logger: Logger;
  /** More plugins (the WebSocket server's drain hook). @default [] */
  plugins?: ApolloServerPlugin<TContext>[];
  /** Checks that need the operation's variables (limits, rate), the same as on WebSocket; errors refuse it. @default none */
  admit?: Admit<TContext>;
  /** Apollo's APQ cache: the persisted-document manifests (read-only with TRUSTED_DOCUMENTS). @default Apollo's own */
  persistedQueriesCache?: DocumentTextCache | undefined;
}

/**
 * Each HTTP operation's access record: made per request before the body is read
 * (so a malformed body is logged too), and carried to Apollo's plugin on the
 * operation's context value under a symbol (Apollo shallow-copies the context, so
 * an enumerable own property survives where a WeakMap key would not).
 */
const HTTP_OPERATION = Symbol('http operation');
/** What the HTTP transport keeps about one request's operation beside its context. */
class HttpOperation<TContext> {
  context: TContext | undefined;
  /** The key its caller's new documents queue under, and its address is charged by. */
  callerKey: string | undefined;
  private endTurn: EndTurn | undefined;

  constructor(readonly record: OperationRecord) {}

  /** Holds the document queue's turn until `end()`. */
  holdTurn(endTurn: EndTurn | undefined): void {
    this.endTurn = endTurn;
  }

  /** Ends the turn, if one is held. Idempotent. */
  end(): void {
    const endTurn = this.endTurn;
    this.endTurn = undefined;
    endTurn?.();
  }
}
const operationOfRequest = new WeakMap<Request, HttpOperation<unknown>>();
const operationOf = (contextValue: object): HttpOperation<unknown> | undefined =>
  (contextValue as { [HTTP_OPERATION]?: HttpOperation<unknown> })[HTTP_OPERATION];

/**
 * Apollo Server for GraphQL over HTTP: CSRF prevention on, the shared document
 * cache and validation rules, errors masked by the shared `maskError`, Sandbox as
 * landing page unless disabled, and the HTTP server drained on stop. Signals are
 * handled by main.ts, not by Apollo.
 */
export function createApolloServer<TContext extends BaseContext>(
  options: ApolloOptions<TContext>,
): ApolloServer<TContext> {
  const { logger } = options;
  const drainGraceMs = nonNegativeInt('drainGraceMs', options.drainGraceMs);
  const errorLogging: ApolloServerPlugin<TContext> = {
    async requestDidStart() {
      let record: OperationRecord | undefined;
      let httpOperation: HttpOperation<unknown> | undefined;
      return {
        async didResolveSource({ contextValue }) {
          httpOperation = operationOf(contextValue);
          record = httpOperation?.record;
          if (record) record.isOperation = true;
        },
        // A new document's turn in the queue (taken in mountGraphQL) lasts while Apollo parses and validates it.
        async parsingDidStart() {
          return async (error) => {
            if (error) httpOperation?.end();
          };
        },
        async validationDidStart() {
          // After Apollo has stored a valid document, so what waited for it finds it cached.
          return async () => void setImmediate(() => httpOperation?.end());
        },
        async willSendResponse() {
          httpOperation?.end();
        },
        async didResolveOperation({ operation, document, operationName, request, contextValue }) {
          if (record) {
            record.operationName = operationName ?? null;
            record.operationType = operation?.operation ?? null;
          }
          if (operation?.operation === 'subscription') {
            throw refusal(
              'BAD_REQUEST',
              `A subscription over HTTP is a stream: ask for it with Accept: ${STREAMING_ACCEPT} (Apollo multipart), ` +
                'or at /graphql/stream with Accept: text/event-stream (GraphQL over SSE), or over WebSocket (graphql-transport-ws) at /graphql',
              { status: 406 },
            );
          }
          const admission = await options.admit?.({
            document,
            operationName,
            variables: request.variables,
            contextValue,
            callerKey: httpOperation?.callerKey,
          });
          if (record && admission) {
            record.ids = admission.ids;
            record.callerId = admission.callerId;
          }
          if (admission?.errors?.length) throw admission.errors[0];
        },
        async didEncounterErrors({ errors, operationName, request, contextValue }) {
          (record ?? operationOf(contextValue)?.record)?.failed(errors);
          const requestId = request.http?.headers.get('x-request-id');
          logOperationErrors(logger, errors, { transport: 'http', operationName, requestId });
        },
      };
    },
  };
  return new ApolloServer<TContext>({
    schema: options.schema,
    documentStore: options.prepare.documentStore,
    validationRules: options.prepare.validationRules,
    parseOptions: options.prepare.parseOptions,
    csrfPrevention: true,
    introspection: options.introspectionEnabled,
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false,
    logger,
    formatError: maskError,
    ...(options.persistedQueriesCache ? { persistedQueries: { cache: options.persistedQueriesCache } } : {}),
    plugins: [
      ApolloServerPluginDrainHttpServer({
        httpServer: options.httpServer,
        stopGracePeriodMillis: drainGraceMs,
      }),
      options.sandboxEnabled
        ? ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false })
        : ApolloServerPluginLandingPageDisabled(),
      errorLogging,
      ...(options.plugins ?? []),
    ],
  });
}

export interface MountOptions<TSession, TContext> {
  /** The transport-free core: who asks (access) and each operation's context; Apollo does the rest itself. */
  core: OperationCore<TSession, TContext>;
  /** Open HTTP streams (multipart subscriptions): MAX_STREAMS, per address, the gauge, the drain. */
  streams: StreamRegistry;
  /** A multipart stream silent this long gets a `{}` heartbeat part (HTTP_STREAM_HEARTBEAT_MS). */
  heartbeatMs: number;
  /** The shared parse/validate step: its queue of new documents, fair between callers. */
  prepare: OperationPreparer;
  /** Largest request body (MAX_BODY_BYTES). */
  maxBodyBytes: number;
  logger: Logger;
  /** One line per completed HTTP operation (ACCESS_LOG). */
  accessLog: AccessLog;
}

/**
 * Mounts GraphQL at `/graphql` after Apollo has started. A body that is not JSON
 * or is too large gets a JSON GraphQL error with its 4xx, never express's HTML
 * page with a stack, and is never echoed or logged.
 */
export function mountGraphQL<TSession, TContext extends BaseContext>(
  app: Express,
  apollo: ApolloServer<TContext>,
  options: MountOptions<TSession, TContext>,
): void {
  const { accessLog } = options;
  positiveInt('maxBodyBytes', options.maxBodyBytes);
  app.use(
    '/graphql',
    (req, res, next) => {
      const record = new OperationRecord(scopeOfRequest(req).requestId, 'http');
      const operation = new HttpOperation<TContext>(record);
      operationOfRequest.set(req, operation);
      res.once('close', () => {
        operation.end();
        // A landing-page load is no operation; anything refused at the HTTP level is logged.
        if (!record.isOperation && res.statusCode < 400) return;
        if (record.outcome === 'ok' && res.statusCode >= 400)
          record.failedWith(res.statusCode === 400 ? 'BAD_REQUEST' : `HTTP_${res.statusCode}`);
        if (!res.writableFinished) record.failedWith('CLIENT_CLOSED_REQUEST');
        accessLog.write(record);
      });
      next();
    },
    express.json({ limit: options.maxBodyBytes }),
    // Who asks, then (for a document not yet validated) that caller's turn in the queue of
    // new documents, before Apollo parses and validates anything.
    async (req, res, next) => {
      const operation = operationOfRequest.get(req) as HttpOperation<TContext>;
      const session = await options.core.authenticate({
        via: 'request',
        headers: req.headers,
        remoteAddress: req.socket.remoteAddress,
      });
      // A refusal of the caller before any operation (e.g. the JWT key source is down: 503).
      if (isRefused(session)) return refuse(res, session.refused[0]!, operation.record);
      const { callerKey } = session;
      operation.callerKey = callerKey;
      const context = options.core.context(session, { request: scopeOfRequest(req), record: operation.record });
      operation.context = Object.assign(context, { [HTTP_OPERATION]: operation });
      // A persisted document's hash names its text; with TRUSTED_DOCUMENTS nothing else runs.
      const reference = referenceOf(req);
      const named = options.core.documents?.resolve(reference);
      if (named && isRefused(named)) return refuse(res, named.refused, operation.record);
      if (named && req.method === 'POST') {
        // Apollo then runs the text (and checks it against an APQ hash); a GET's hash is
        // resolved by Apollo's APQ cache, which holds the manifests.
        (req.body as { query?: unknown }).query = named.query;
      }
      const query = named?.query ?? (typeof reference.query === 'string' ? reference.query : undefined);
      if (query === undefined) return next();
      // Apollo multipart subscriptions: a subscription asked for with that Accept is streamed
      // here, on the core; anything else (and every query) goes on to Apollo.
      if (acceptsMultipartSubscription(req.headers.accept)) {
        const prepared = await options.prepare.prepare(callerKey, query);
        if ('errors' in prepared) return refuse(res, prepared.errors, operation.record);
        const params = paramsOf(req);
        if ('refused' in params) return refuse(res, params.refused, operation.record);
        if (getOperationAST(prepared.document, params.operationName ?? undefined)?.operation === 'subscription')
          return streamMultipart(req, res, session, { ...params, query }, operation.record, options);
      }
      try {
        operation.holdTurn(await options.prepare.turn(callerKey, query));
      } catch (error) {
        return refuse(res, error as GraphQLError, operation.record);
      }
      next();
    },
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const context = operationOfRequest.get(req)?.context as TContext | undefined;
        if (!context) throw new Error('An HTTP operation reached Apollo without the gate before it');
        return context;
      },
    }),
  );
  app.use('/graphql', bodyErrors(options.maxBodyBytes, options.logger));
}

/** What names a GraphQL-over-HTTP request's document: its text, and an APQ hash or `documentId` (POST body or GET parameters). */
function referenceOf(req: Request): DocumentReference {
  if (req.method === 'POST') return (req.body ?? {}) as DocumentReference;
  const { query, extensions, documentId } = (req.query ?? {}) as Record<string, unknown>;
  let parsed: unknown;
  try {
    parsed = typeof extensions === 'string' ? JSON.parse(extensions) : undefined;
  } catch {
    parsed = undefined;
  }
  return { query, extensions: parsed, documentId };
}

/** Answers a refusal found before Apollo (access, the document queue's limits) as Apollo would: JSON errors with the first error's HTTP status. */
function refuse(
  res: Response,
  errors: GraphQLError | readonly GraphQLError[] | Refused,
  record: OperationRecord,
): void {
  const refused: Refused =
    errors instanceof GraphQLError ? { refused: [errors] } : isRefused(errors) ? errors : { refused: errors };
  record.isOperation = true;
  // The core's refusals are recorded (and masked) already; masking again keeps them as they are.
  if (refused.status === undefined) record.failed(refused.refused);
  for (const [name, value] of headersOf(refused)) res.setHeader(name, value);
  res.status(statusOf(refused)).json({ errors: refused.refused.map((error) => maskError(error.toJSON(), error)) });
}

/** What Apollo Client 4's HttpLink sends for a subscription. */
const STREAMING_ACCEPT = 'multipart/mixed;boundary=graphql;subscriptionSpec=1.0';

/** A GraphQL-over-HTTP request's variables and operation name (POST body, or GET parameters with JSON variables). */
function paramsOf(req: Request): Refused | Omit<OperationRequest, 'query'> {
  if (req.method === 'POST') {
    const body = req.body as { variables?: unknown; operationName?: unknown };
    return {
      variables: (body.variables ?? null) as OperationRequest['variables'],
      operationName: typeof body.operationName === 'string' ? body.operationName : null,
    };
  }
  const { variables, operationName } = req.query as Record<string, unknown>;
  try {
    return {
      variables: typeof variables === 'string' ? (JSON.parse(variables) as OperationRequest['variables']) : null,
      operationName: typeof operationName === 'string' ? operationName : null,
    };
  } catch {
    return { refused: [refusal('BAD_REQUEST', 'The `variables` parameter is not valid JSON', { status: 400 })] };
  }
}

/** Apollo's CSRF prevention, for the requests that stream before reaching Apollo: a browser cannot send these without a preflight. */
function isPreflighted(req: Request): boolean {
  if (req.headers['apollo-require-preflight'] || req.headers['x-apollo-operation-name']) return true;
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  return (
    type !== undefined && !['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data'].includes(type)
  );
}

/** One subscription as an Apollo multipart stream, on the core: refused before the stream as JSON, else streamed to its end. */
async function streamMultipart<TSession, TContext>(
  req: Request,
  res: Response,
  session: Session<TSession>,
  request: OperationRequest,
  record: OperationRecord,
  options: MountOptions<TSession, TContext>,
): Promise<void> {
  const { core } = options;
  if (!isPreflighted(req)) {
    return refuse(
      res,
      refusal(
        'BAD_REQUEST',
        'This request could be a cross-site request forgery: send a Content-Type of application/json or an Apollo-Require-Preflight header',
        { status: 400 },
      ),
      record,
    );
  }
  if (session.denied) return refuse(res, session.denied, record);
  const stream = options.streams.open('multipart', req, res);
  if (isRefused(stream)) return refuse(res, stream.refused, record);
  record.transport = 'multipart';
  const operation = await core.prepare(session, request, { request: scopeOfRequest(req), record, lifetime: stream });
  if (isRefused(operation)) {
    stream.close();
    return refuse(res, operation, record);
  }
  const result = await operation.subscribe();
  // Request errors (no `data`, e.g. a variable of the wrong type): refused before the stream, as JSON.
  if (!(Symbol.asyncIterator in result) && !('data' in result)) {
    stream.close();
    return refuse(res, { refused: result.errors ?? [], status: 400 }, record);
  }
  const results = streamedResults(result, { expiresAt: session.expiresAt, record, mask: core.mask });
  try {
    await writeMultipart(res, results, { heartbeatMs: options.heartbeatMs });
  } finally {
    stream.close();
  }
}

/** body-parser's failures as GraphQL-over-HTTP errors: the client's mistakes, logged at debug without the body. */
function bodyErrors(maxBodyBytes: number, logger: Logger): ErrorRequestHandler {
  return (error: { type?: unknown; status?: unknown }, _req, res, next) => {
    const status = typeof error.status === 'number' ? error.status : 500;
    if (res.headersSent || status < 400 || status >= 500) return next(error);
    const [code, message] =
      error.type === 'entity.too.large'
        ? ['BAD_USER_INPUT', `The request body is larger than ${maxBodyBytes} bytes`]
        : error.type === 'entity.parse.failed'
          ? ['BAD_REQUEST', 'The request body is not valid JSON']
          : ['BAD_REQUEST', 'The request body could not be read'];
    logger.debug({ status, code, type: error.type, requestId: _req.headers['x-request-id'] }, 'bad request body');
    operationOfRequest.get(_req)?.record.failedWith(code);
    res.status(status).json({ errors: [{ message, extensions: { code } }] });
  };
}
