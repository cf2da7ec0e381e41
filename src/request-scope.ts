import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What belongs to one incoming request (an HTTP request, or a WebSocket
 * operation) wherever its work goes: its id, on every log line it causes (see
 * logger.ts), and the W3C trace context to forward upstream.
 */
export interface RequestScope {
  readonly requestId: string;
  readonly traceparent?: string;
}

const storage = new AsyncLocalStorage<RequestScope>();

/** Runs `fn` (and everything it starts) inside `scope`. */
export function runInRequestScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The scope of the request whose work is running now, if any. */
export function currentRequestScope(): RequestScope | undefined {
  return storage.getStore();
}

/** A sane incoming request id: 1-128 visible ASCII characters. */
export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && /^[\x21-\x7E]{1,128}$/.test(value);
}

/** A W3C `traceparent` (version 00 layout), lower-case hex; anything else is dropped. */
export function isValidTraceparent(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(value) && !/^ff-|-0{32}-|-0{16}-/.test(value);
}
