import fetch from 'cross-fetch';
import pRetry, { AbortError } from 'p-retry';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Logger } from 'pino';
import { ErrorCode } from '../errors.js';
import type { ActivityKey, StatusSnapshot, UpstreamErrorBody } from './cleartax.types.js';
import { UpstreamError } from './upstream-error.js';

export interface ClearTaxClientOptions {
  /** e.g. `https://ewb.cleartax.in/api`; a trailing slash is ignored. */
  baseUrl: string;
  /** Per attempt, covering headers and body. */
  timeoutMs: number;
  /** Retries after the first attempt, for retry-safe failures only. */
  retries: number;
  /** First backoff delay; doubles per retry, with full jitter. */
  retryBaseMs: number;
  /** A 429 asking to wait longer than this fails at once with RATE_LIMITED (and its `retryAfterMs`). */
  maxRetryAfterMs: number;
  logger: Logger;
  /** Called once per HTTP attempt, for metrics. */
  onAttempt?: (outcome: AttemptOutcome) => void;
}

export interface AttemptOutcome {
  /** HTTP status, or `timeout` / `network`. */
  result: string;
  durationMs: number;
}

export interface GetStatusOptions {
  /** Overrides the client's retries (the watcher polls again anyway, so it asks for none). */
  retries?: number;
}

export interface ClearTaxClient {
  /** Reads one activity's status. Resolves to a snapshot or rejects with an `UpstreamError`. */
  getStatus(token: string, key: ActivityKey, options?: GetStatusOptions): Promise<StatusSnapshot>;
  /** True when upstream answers HTTP at all (any status) within the timeout. */
  ping(): Promise<boolean>;
}

const statusBody = z.object({
  status: z.string().min(1),
  errorMessage: z.string().nullish(),
  queuedCount: z.number().int().nonnegative().nullish(),
});

const errorBody = z.object({
  errors: z.record(
    z.string(),
    z.object({
      code: z.union([z.string(), z.number()]).nullish(),
      message: z.string().nullish(),
    }),
  ),
});

/**
 * The only module that talks HTTP to ClearTax. It knows the URL layout, the auth
 * header and the wire format, and nothing about GraphQL. GET is idempotent, so
 * 5xx, 429, timeouts and network failures are retried with jittered exponential
 * backoff (p-retry), honouring Retry-After up to `maxRetryAfterMs`.
 */
export function createClearTaxClient(options: ClearTaxClientOptions): ClearTaxClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const { logger } = options;

  function statusPath(key: ActivityKey): string {
    return `/v0.2/taxable_entities/${encodeURIComponent(key.taxableEntityId)}/upload_activity/${encodeURIComponent(key.activityId)}/status`;
  }

  async function attempt(token: string, key: ActivityKey): Promise<StatusSnapshot> {
    const path = statusPath(key);
    const started = performance.now();
    const report = (result: string) => options.onAttempt?.({ result, durationMs: performance.now() - started });
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const response = await fetch(base + path, {
        method: 'GET',
        headers: { 'X-Cleartax-Auth-Token': token, Accept: 'application/json' },
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      text = await response.text();
    } catch (error) {
      const isTimeout = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      report(isTimeout ? 'timeout' : 'network');
      throw new UpstreamError(
        ErrorCode.UPSTREAM_UNAVAILABLE,
        isTimeout
          ? `ClearTax did not answer GET ${path} within ${options.timeoutMs} ms`
          : `ClearTax could not be reached for GET ${path} (${networkReason(error)})`,
        { isRetryable: true, cause: error },
      );
    }
    report(String(status));
    if (status === 200) return parseSnapshot(text, key, path);
    throw classify(status, text, retryAfter, path);
  }

  async function getStatus(token: string, key: ActivityKey, callOptions: GetStatusOptions = {}): Promise<StatusSnapshot> {
    return pRetry(
      async () => {
        try {
          return await attempt(token, key);
        } catch (error) {
          if (error instanceof UpstreamError && !error.isRetryable) throw new AbortError(error);
          throw error;
        }
      },
      {
        retries: callOptions.retries ?? options.retries,
        factor: 2,
        minTimeout: options.retryBaseMs,
        maxTimeout: Math.max(options.retryBaseMs, options.retryBaseMs * 2 ** 6),
        randomize: true,
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (!(error instanceof UpstreamError) || retriesLeft === 0) return;
          const wait = error.retryAfterMs;
          // Waiting out a long Retry-After would hold the caller's request open;
          // better to say RATE_LIMITED now and let the caller (or the watcher) decide.
          if (wait !== undefined && wait > options.maxRetryAfterMs) throw error;
          logger.warn({ code: error.code, attempt: attemptNumber, retriesLeft, path: statusPath(key) }, 'upstream attempt failed, retrying');
          if (wait !== undefined) await sleep(wait);
        },
      },
    ).catch((error: unknown) => {
      // p-retry rethrows AbortError's wrapped error; unwrap defensively either way.
      if (error instanceof AbortError && error.cause instanceof UpstreamError) throw error.cause;
      throw error;
    });
  }

  async function ping(): Promise<boolean> {
    try {
      const response = await fetch(base + '/', { method: 'GET', signal: AbortSignal.timeout(options.timeoutMs) });
      await response.text().catch(() => undefined);
      return true;
    } catch {
      return false;
    }
  }

  return { getStatus, ping };
}

function parseSnapshot(text: string, key: ActivityKey, path: string): StatusSnapshot {
  const json = parseJson(text);
  const parsed = statusBody.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'body';
    throw new UpstreamError(
      ErrorCode.UPSTREAM_BAD_RESPONSE,
      json === undefined
        ? `ClearTax answered GET ${path} with a body that is not JSON`
        : `ClearTax answered GET ${path} with an unreadable body (${where}: ${issue?.message ?? 'invalid'})`,
      { isRetryable: false, upstream: { httpStatus: 200, code: null, message: null } },
    );
  }
  return {
    taxableEntityId: key.taxableEntityId,
    activityId: key.activityId,
    rawStatus: parsed.data.status,
    errorMessage: parsed.data.errorMessage ?? null,
    queuedCount: parsed.data.queuedCount ?? null,
    fetchedAt: new Date().toISOString(),
  };
}

function classify(status: number, text: string, retryAfter: string | null, path: string): UpstreamError {
  const upstream = parseErrorBody(status, text);
  const said = upstream.message ? `: ${upstream.message}` : '';
  switch (true) {
    case status === 404:
      return new UpstreamError(ErrorCode.NOT_FOUND, upstream.message ?? `ClearTax has no activity at GET ${path}`, {
        upstream,
        isRetryable: false,
      });
    case status === 401:
      return new UpstreamError(ErrorCode.UNAUTHENTICATED, `ClearTax rejected the token (401)${said}`, { upstream, isRetryable: false });
    case status === 403:
      return new UpstreamError(ErrorCode.FORBIDDEN, `ClearTax refused access to this activity (403)${said}`, {
        upstream,
        isRetryable: false,
      });
    case status === 429: {
      const retryAfterMs = parseRetryAfter(retryAfter);
      return new UpstreamError(ErrorCode.RATE_LIMITED, `ClearTax is rate limiting requests (429)${said}`, {
        upstream,
        isRetryable: true,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
    }
    case status >= 500:
      return new UpstreamError(ErrorCode.UPSTREAM_UNAVAILABLE, `ClearTax failed GET ${path} with ${status}${said}`, {
        upstream,
        isRetryable: true,
      });
    default:
      return new UpstreamError(ErrorCode.UPSTREAM_BAD_RESPONSE, `ClearTax answered GET ${path} with unexpected ${status}${said}`, {
        upstream,
        isRetryable: false,
      });
  }
}

function parseErrorBody(httpStatus: number, text: string): UpstreamErrorBody {
  const parsed = errorBody.safeParse(parseJson(text));
  const first = parsed.success ? Object.values(parsed.data.errors)[0] : undefined;
  return {
    httpStatus,
    code: first?.code === undefined || first.code === null ? null : String(first.code),
    message: first?.message ?? null,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function networkReason(error: unknown): string {
  const code = (error as { code?: unknown; cause?: { code?: unknown } } | null)?.code ?? (error as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === 'string' ? code : 'network error';
}
