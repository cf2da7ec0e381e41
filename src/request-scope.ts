/**
 * What belongs to one incoming request (an HTTP request, or a WebSocket
 * connection's operations): its id, on the log lines it causes, and the W3C trace
 * context forwarded upstream. Passed explicitly, not through AsyncLocalStorage:
 * on Node 20 that turns on promise hooks for every promise in the process and
 * cost ~20 % of lookup throughput (measured with the lookup benchmark's
 * cached-terminal scenario).
 */
export interface RequestScope {
  readonly requestId: string;
  readonly traceparent?: string;
}

/** A sane incoming request id: 1-128 visible ASCII characters. */
export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && /^[\x21-\x7E]{1,128}$/.test(value);
}

/** A W3C `traceparent` (version 00 layout), lower-case hex; anything else is dropped. */
export function isValidTraceparent(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(value) &&
    !/^ff-|-0{32}-|-0{16}-/.test(value)
  );
}

/** The scope of a request with these headers: its sane X-Request-Id or `makeId()`, and a valid traceparent. */
export function requestScopeOf(
  headers: Record<string, string | string[] | undefined>,
  makeId: () => string,
): RequestScope {
  const incoming = headers['x-request-id'];
  const traceparent = headers.traceparent;
  return {
    requestId: isValidRequestId(incoming) ? incoming : makeId(),
    ...(isValidTraceparent(traceparent) ? { traceparent } : {}),
  };
}
