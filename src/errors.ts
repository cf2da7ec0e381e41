import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ErrorCode, type UpstreamErrorBody } from './domain/index.js';

/**
 * An error whose message and code are safe to show a client. Resolvers throw these
 * (or `UpstreamError`, which extends it); anything else is masked.
 */
export class GatewayError extends Error {
  override name = 'GatewayError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly upstream?: UpstreamErrorBody,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class UnauthenticatedError extends GatewayError {
  override name = 'UnauthenticatedError';
  constructor(message = 'No ClearTax token: send the X-Cleartax-Auth-Token header') {
    super(ErrorCode.UNAUTHENTICATED, message);
  }
}

export interface RefusalOptions {
  /** The HTTP status Apollo answers with (`extensions.http.status`). @default none: Apollo's own */
  status?: number;
  /** Sets a `retry-after` header (with `status`) and `extensions.retryAfterSeconds`. @default none */
  retryAfterSeconds?: number;
  /** With `retryAfterSeconds`: the header only, no `extensions.retryAfterSeconds`. @default false */
  retryAfterHeaderOnly?: boolean;
  /** The document nodes the refusal is about. @default none */
  nodes?: GraphQLError['nodes'];
}

/**
 * A request refused before execution, built in one place: `extensions.code`, then
 * `retryAfterSeconds` and `http` (status and a `retry-after` header) when asked for.
 */
export function refusal(code: ErrorCode | string, message: string, options: RefusalOptions = {}): GraphQLError {
  const { status, retryAfterSeconds, retryAfterHeaderOnly, nodes } = options;
  const retryAfter = retryAfterSeconds !== undefined;
  const http =
    status === undefined
      ? undefined
      : { status, ...(retryAfter ? { headers: new Map([['retry-after', String(retryAfterSeconds)]]) } : {}) };
  return new GraphQLError(message, {
    ...(nodes ? { nodes } : {}),
    extensions: {
      code,
      ...(retryAfter && !retryAfterHeaderOnly ? { retryAfterSeconds } : {}),
      ...(http ? { http } : {}),
    },
  });
}

/** Codes graphql-js / Apollo / graphql-ws attach themselves; they are safe to pass on. */
const PASS_THROUGH_CODES = new Set<string>([
  ...Object.values(ErrorCode),
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_NOT_TRUSTED',
]);

/**
 * The one place that decides what of an error reaches a client, used by Apollo's
 * `formatError` and by the WebSocket server (whose errors never pass through Apollo).
 * Known codes pass; a `GatewayError` anywhere in the chain gets its code and
 * `upstream` details; anything else becomes a generic INTERNAL_SERVER_ERROR without
 * message details or stack.
 */
export function maskError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? error.originalError : error;
  if (original instanceof GatewayError) {
    return {
      message: original.message,
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: original.code, ...(original.upstream ? { upstream: original.upstream } : {}) },
    };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && PASS_THROUGH_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
    const { stacktrace: _stack, http: _http, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  // graphql-js errors without a code and without an original error are request
  // errors (validation, unknown variables); their messages are about the client's
  // own document and safe to show.
  if (error instanceof GraphQLError && !error.originalError && code === undefined) {
    return { ...formatted, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } };
  }
  return {
    message: 'Internal server error',
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}

/**
 * The code a thrown value will carry to the client (for logs and metrics): exactly
 * what `maskError` gives it, so a client's mistake (a malformed variable, an
 * unknown field) is logged with its own code, not as an internal error.
 */
export function errorCodeOf(error: unknown): string {
  const formatted: GraphQLFormattedError =
    error instanceof GraphQLError
      ? error.toJSON()
      : { message: error instanceof Error ? error.message : String(error) };
  const code = maskError(formatted, error).extensions?.code;
  return typeof code === 'string' ? code : ErrorCode.INTERNAL_SERVER_ERROR;
}
