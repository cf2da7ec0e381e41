import { GatewayError } from '../errors.js';
import type { ErrorCode, UpstreamErrorBody } from '../domain/index.js';

/**
 * A failed upstream call, already classified under the contract's error code.
 * Carries the HTTP status and upstream's own error code/message where it sent one;
 * never the token, never the full URL.
 */
export class UpstreamError extends GatewayError {
  override name = 'UpstreamError';
  constructor(
    code: ErrorCode,
    message: string,
    readonly details: {
      upstream?: UpstreamErrorBody;
      /** Safe to try again (5xx, 429, timeout, network). */
      isRetryable: boolean;
      /** From a 429's Retry-After header. */
      retryAfterMs?: number;
      cause?: unknown;
    },
  ) {
    super(code, message, details.upstream, { cause: details.cause });
  }

  get isRetryable(): boolean {
    return this.details.isRetryable;
  }

  get retryAfterMs(): number | undefined {
    return this.details.retryAfterMs;
  }
}

/**
 * Why a read ended by `signal` ended: its reason's own message when it gave one,
 * else `fallback`. A bare `abort()` (an AbortError) never says why; with
 * `timeoutSaysNothing`, neither does an `AbortSignal.timeout` (a TimeoutError).
 */
export function abortMessage(
  signal: AbortSignal,
  fallback: string,
  options: { timeoutSaysNothing?: boolean } = {},
): string {
  const reason: unknown = signal.reason;
  if (
    reason instanceof Error &&
    reason.name !== 'AbortError' &&
    !(options.timeoutSaysNothing && reason.name === 'TimeoutError')
  )
    return reason.message;
  return fallback;
}
