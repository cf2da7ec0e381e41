import {
  execute,
  getOperationAST,
  GraphQLError,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationTypeNode,
} from 'graphql';
import type { Logger } from 'pino';
import type { RequestScope } from '../request-scope.js';
import { refusal } from '../errors.js';
import type { OperationRecord } from './access-log.js';
import { logOperationErrors } from './error-logging.js';
import { asRequestError, type Admit, type OperationPreparer } from './operation.js';
import { createSharedSubscribe, type Delivery as SharedDelivery } from './shared-subscribe.js';
import { notFound, type TrustedDocuments } from './trusted-documents.js';
import { isRefused, maskedRefusal, type Refused } from './refusal.js';

/** What a request (or a WebSocket `connection_init`) presents: the only input access looks at. */
export interface Credentials {
  /** An HTTP request (one operation, or one stream), or a WebSocket `connection_init` (many operations). */
  readonly via: 'request' | 'connection';
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The socket's peer address. */
  readonly remoteAddress: string | undefined;
  /** A graphql-ws `connection_init` payload (`via: 'connection'`). @default none */
  readonly connectionParams?: Readonly<Record<string, unknown>> | undefined;
}

/** Who asks, as access established it once per request or connection. */
export interface Session<TSession> {
  /** Access's own value, opaque to transports (handed back to `context`). */
  readonly value: TSession;
  /** Fairness key of the document queue: a verified caller, or the client address. */
  readonly callerKey: string;
  /** When the credentials stop being valid (epoch ms): a socket closes, a stream ends with UNAUTHENTICATED. @default never */
  readonly expiresAt?: number | undefined;
  /**
   * Credentials were presented and refused (UNAUTHENTICATED, with its HTTP status).
   * A query over HTTP still runs (each field answers the error, as the contract
   * says); a socket or a stream is refused before it opens.
   */
  readonly denied?: GraphQLError | undefined;
}

export { headersOf, isRefused, maskedRefusal, statusOf, type Refused } from './refusal.js';

/** One operation as a transport received it. */
export interface OperationRequest {
  /** The document text; may be empty when a hash names a persisted document. */
  readonly query?: string | undefined;
  /** `persistedQuery.sha256Hash` (Apollo's APQ shape) names a persisted document. */
  readonly extensions?: Readonly<Record<string, unknown>> | null | undefined;
  /** A persisted document's hash, in the `documentId` shape. */
  readonly documentId?: string | undefined;
  readonly variables?: Readonly<Record<string, unknown>> | null | undefined;
  readonly operationName?: string | null | undefined;
}

/** Where an operation runs: its request's id and trace context, its access record and, for live operations, its lifetime. */
export interface OperationScope {
  readonly request: RequestScope;
  /** Filled in by the core (name, type, ids, caller, error codes); written by the transport when the operation ends. */
  readonly record: OperationRecord;
  /** What ends the operation's subscriptions: the socket or stream closing. @default none (no subscriptions) */
  readonly lifetime?: Lifetime | undefined;
}

/** A socket's or stream's lifetime, handed to each operation's context: what must end when it closes. */
export interface Lifetime {
  /** Runs `close` when the socket or stream closes (at once if it has); returns a function that unregisters it. */
  onClose(close: () => void): () => void;
}

/**
 * An error that ended a live operation while it ran (NOT_FOUND, FORBIDDEN,
 * UNAUTHENTICATED at a JWT's expiry), thrown by a prepared operation's stream with
 * its errors already masked, logged and recorded: a transport only frames them.
 */
export class OperationEnded extends Error {
  override name = 'OperationEnded';
  constructor(readonly errors: readonly GraphQLError[]) {
    super(errors[0]?.message ?? 'The operation ended with an error');
  }
}

/** An operation that passed every check, ready to run. Results come masked, logged and recorded. */
export interface PreparedOperation<TContext> {
  readonly kind: OperationTypeNode;
  /** The execution arguments, for a transport that runs them itself (graphql-ws); `execute`/`subscribe` must still be the core's. */
  readonly args: ExecutionArgs;
  readonly document: DocumentNode;
  readonly operationName: string | null | undefined;
  readonly variables: Readonly<Record<string, unknown>> | null | undefined;
  readonly contextValue: TContext;
  /** Runs a query or mutation. */
  execute(): Promise<ExecutionResult>;
  /**
   * Starts a subscription: a stream of results (whose `next()` throws
   * `OperationEnded` for an error that ends it), or one result with the errors that
   * kept it from starting.
   */
  subscribe(): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
}

export interface OperationCoreOptions<TSession, TContext> {
  schema: GraphQLSchema;
  /** The shared parse/validate step (document cache, fair queue of new documents). */
  prepare: OperationPreparer;
  /** Access: credentials to a session, or a refusal (e.g. the key source is down: 503). Synchronous where access is. */
  authenticate(credentials: Credentials): Session<TSession> | Refused | Promise<Session<TSession> | Refused>;
  /** One operation's context, from its session and scope. */
  context(session: Session<TSession>, scope: OperationScope): TContext;
  /** Checks that need the operation's variables (limits, the rate limit, the operation guard). @default none */
  admit?: Admit<TContext> | undefined;
  /** Persisted and trusted documents: hashes resolved, untrusted texts refused (TRUSTED_DOCUMENTS). @default any text runs */
  documents?: TrustedDocuments | undefined;
  logger: Logger;
}

/**
 * The transport-free core every transport adapts, the way graphql-ws keeps
 * `makeServer` apart from `use/ws`: access, the document queue and cache, validation,
 * the limits, the rate limit, the operation guard, error masking, logging and the
 * access record happen here once. A transport only translates `Refused` and a
 * prepared operation's results into its own framing and close codes.
 */
export interface OperationCore<TSession, TContext> {
  readonly schema: GraphQLSchema;
  /** Who asks. Synchronous when access is (graphql-ws acknowledges before reading further). */
  authenticate(credentials: Credentials): Session<TSession> | Refused | Promise<Session<TSession> | Refused>;
  /** A session's operation: refused (with its errors and HTTP status), or prepared. */
  prepare(
    session: Session<TSession>,
    request: OperationRequest,
    scope: OperationScope,
  ): Promise<Refused | PreparedOperation<TContext>>;
  /** For Apollo (which parses, validates and executes itself): one operation's context. */
  context(session: Session<TSession>, scope: OperationScope): TContext;
  /** For Apollo: the admission checks, as `prepare` runs them. */
  readonly admit: Admit<TContext> | undefined;
  /** The persisted and trusted documents, for the HTTP gate before Apollo. @default none */
  readonly documents: TrustedDocuments | undefined;
  /** Errors as a client may see them. */
  mask(errors: readonly GraphQLError[]): GraphQLError[];
}

export function createOperationCore<TSession, TContext>(
  options: OperationCoreOptions<TSession, TContext>,
): OperationCore<TSession, TContext> {
  const { schema, prepare, logger } = options;
  // One per core: subscribers of one event share its execution whatever transport they came by.
  const subscribe = createSharedSubscribe();

  /** Masks a result's errors, after recording and logging them as they are. */
  function deliver(result: ExecutionResult, scope: OperationScope, operationName: string | null | undefined) {
    if (!result.errors?.length) return result;
    scope.record.failed(result.errors);
    logOperationErrors(logger, result.errors, {
      transport: scope.record.transport,
      operationName,
      requestId: scope.request.requestId,
    });
    return { ...result, errors: prepare.mask(result.errors) };
  }

  /**
   * Like Apollo: errors raised before execution (variable coercion) are the client's,
   * and come without `data`. A subscription whose field failed as it started (e.g.
   * FORBIDDEN for an entity outside the caller's claim) has `data: null`, as the
   * contract frames it on every transport.
   */
  const beforeExecution = (result: ExecutionResult): ExecutionResult => {
    if (!result.errors || 'data' in result) return result;
    if (result.errors.some((error) => error.path !== undefined)) return { data: null, errors: result.errors };
    return { ...result, errors: result.errors.map(asRequestError) };
  };

  function refuse(scope: OperationScope, errors: readonly GraphQLError[]): Refused {
    scope.record.failed(errors);
    return maskedRefusal({ refused: errors }, prepare.mask);
  }

  async function prepareOperation(
    session: Session<TSession>,
    request: OperationRequest,
    scope: OperationScope,
  ): Promise<Refused | PreparedOperation<TContext>> {
    const { record } = scope;
    record.operationName = request.operationName ?? null;
    // A persisted document's hash names its text; with TRUSTED_DOCUMENTS nothing else runs.
    const named = options.documents?.resolve(request);
    if (named && isRefused(named)) {
      record.isOperation = true;
      return refuse(scope, named.refused);
    }
    if (!named && options.documents?.hashOf(request) !== undefined) {
      record.isOperation = true;
      return refuse(scope, [notFound()]);
    }
    const prepared = await prepare.prepare(session.callerKey, named?.query ?? request.query ?? '');
    record.isOperation = true;
    if ('errors' in prepared) return refuse(scope, prepared.errors);
    const { document } = prepared;
    const definition = getOperationAST(document, request.operationName ?? undefined);
    if (!definition) {
      return refuse(scope, [
        refusal(
          'OPERATION_RESOLUTION_FAILURE',
          request.operationName
            ? `Unknown operation named "${request.operationName}"`
            : 'Must provide an operation name: the document holds several operations',
          { status: 400 },
        ),
      ]);
    }
    record.operationType = definition.operation;
    record.operationName ??= definition.name?.value ?? null;
    const contextValue = options.context(session, scope);
    const admission = await options.admit?.({
      document,
      operationName: request.operationName,
      variables: request.variables,
      contextValue,
      callerKey: session.callerKey,
    });
    record.ids = admission?.ids ?? 0;
    record.callerId = admission?.callerId;
    if (admission?.errors?.length) return refuse(scope, admission.errors);
    const args: ExecutionArgs & { contextValue: TContext } = {
      schema,
      document,
      operationName: request.operationName,
      variableValues: request.variables,
      contextValue,
    };
    return new Prepared(definition.operation, args, scope, delivery);
  }

  /** What every prepared operation of this core shares (one object, so each operation holds one reference). */
  const delivery: Delivery = { deliver, beforeExecution, subscribe };

  return {
    schema,
    authenticate: (credentials) => options.authenticate(credentials),
    prepare: prepareOperation,
    context: (session, scope) => options.context(session, scope),
    admit: options.admit,
    documents: options.documents,
    mask: (errors) => prepare.mask(errors),
  };
}

/** How a core delivers results: masking, logging and recording, and the shared subscribe. */
interface Delivery {
  deliver(result: ExecutionResult, scope: OperationScope, operationName: string | null | undefined): ExecutionResult;
  beforeExecution(result: ExecutionResult): ExecutionResult;
  subscribe(
    args: ExecutionArgs,
    delivery: SharedDelivery,
  ): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
}

/**
 * A prepared operation. A class, not a closure per method: a subscription holds one
 * for its lifetime, and thousands of subscribers each pay for it (bench:fanout).
 */
class Prepared<TContext> implements PreparedOperation<TContext>, SharedDelivery {
  constructor(
    readonly kind: OperationTypeNode,
    /** The execution arguments, as handed to a transport that runs them itself (graphql-ws). */
    readonly args: ExecutionArgs & { contextValue: TContext },
    private readonly scope: OperationScope,
    private readonly delivery: Delivery,
  ) {}

  get document(): DocumentNode {
    return this.args.document;
  }

  get operationName(): string | null | undefined {
    return this.args.operationName;
  }

  get variables(): Readonly<Record<string, unknown>> | null | undefined {
    return this.args.variableValues;
  }

  get contextValue(): TContext {
    return this.args.contextValue;
  }

  async execute(): Promise<ExecutionResult> {
    const result = (await execute(this.args)) as ExecutionResult;
    return this.delivered(this.delivery.beforeExecution(result));
  }

  async subscribe(): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const result = await this.delivery.subscribe(this.args, this);
    if (!(Symbol.asyncIterator in result)) return this.delivered(this.delivery.beforeExecution(result));
    return result;
  }

  /** A result as the client may see it (masked), its errors logged and recorded. */
  delivered(result: ExecutionResult): ExecutionResult {
    return this.delivery.deliver(result, this.scope, this.args.operationName);
  }

  /** An error thrown while the subscription ran, as the `OperationEnded` that ends it. */
  ended(error: unknown): OperationEnded {
    const errors = [
      error instanceof GraphQLError ? error : new GraphQLError(String(error), { originalError: error as Error }),
    ];
    return new OperationEnded(this.delivered({ errors }).errors ?? []);
  }
}
