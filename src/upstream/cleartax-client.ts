import fetch from 'cross-fetch';
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from 'pino';
import { ErrorCode, type ActivityKey, type StatusSnapshot } from '../domain/index.js';
import { nonNegativeInt, positiveInt } from '../options.js';
import { parseErrorBody, parseRetryAfter, parseStatusBody } from './cleartax-wire.js';
import { createOutageLog } from './outage-log.js';
import { abortMessage, UpstreamError } from './upstream-error.js';

export interface ClearTaxClientOptions {
  /** e.g. `https://ewb.cleartax.in/api`; a trailing slash is ignored. */
  baseUrl: string;
  /** Per attempt, covering headers and body (UPSTREAM_TIMEOUT_MS). */
  timeoutMs: number;
  /** Retries after the first attempt, for retry-safe failures only (UPSTREAM_RETRIES). A call may ask for fewer. */
  retries: number;
  /** First backoff delay; doubles per retry, with full jitter (UPSTREAM_RETRY_BASE_MS). */
  retryBaseMs: number;
  /** A 429 asking to wait longer than this fails at once with RATE_LIMITED and its `retryAfterMs` (UPSTREAM_MAX_RETRY_AFTER_MS). */
  maxRetryAfterMs: number;
  /** Larger bodies are UPSTREAM_BAD_RESPONSE; reading stops there (UPSTREAM_MAX_BODY_BYTES). */
  maxBodyBytes: number;
  /** Longest upstream error message copied into `extensions.upstream.message`; the rest is cut. @default 500 */
  maxMessageLength?: number;
  logger: Logger;
  /** Called once per HTTP attempt, for metrics. @default no-op */
  onAttempt?: (outcome: AttemptOutcome) => void;
  /** Called with ClearTax's verdict on the token of each answered attempt: 401 refused it, 2xx/404 accepted it (a 403 is about one entity, not the token). @default no-op */
  onTokenVerdict?: (token: string, verdict: 'accepted' | 'refused') => void;
  /** Summary line interval of the outage log (see outage-log.ts). @default 10000 */
  outageSummaryIntervalMs?: number;
  /**
   * Tracing is on: the HTTP instrumentation sends the `traceparent` of each attempt's own
   * client span (in the trace of the request or poll it serves), so a call's incoming
   * `traceparent` is not sent: it would name the caller's span, not ours.
   * @default false: a call's `traceparent` is forwarded as it came
   */
  isTraced?: boolean;
}

export interface AttemptOutcome {
  /** HTTP status, or `timeout` / `network`. */
  result: string;
  durationMs: number;
}

export interface GetStatusOptions {
  /** Retries after the first attempt for this call. @default the client's `retries` */
  retries?: number;
  /** Ends the call (and any attempt in flight) with UPSTREAM_UNAVAILABLE and the signal's reason as message. @default never */
  signal?: AbortSignal;
  /** W3C trace context of the request this read serves, forwarded upstream unless `isTraced`. @default none */
  traceparent?: string;
}

export interface ClearTaxClient {
  /** Reads one activity's status. Resolves to a snapshot or rejects with an `UpstreamError`. */
  getStatus(token: string, key: ActivityKey, options?: GetStatusOptions): Promise<StatusSnapshot>;
  /**
   * Upstream's health as /readyz reports it: false while recent reads fail with 5xx,
   * 429, timeouts or network errors (the same judgement as the outage log), else
   * whether it answers HTTP below 500 within the timeout.
   */
  ping(): Promise<boolean>;
}

/** How long a failed read keeps upstream reported down when no read has answered since. */
const RECENT_FAILURE_MS = 60_000;

/** A wait on the global timer (which fake timers control, unlike node:timers/promises). */
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The only module that talks HTTP to ClearTax. It knows the URL layout, the auth
 * header and the wire format, and nothing about GraphQL. GET is idempotent, so
 * 5xx, 429, timeouts and network failures are retried with jittered exponential
 * backoff (p-retry), honouring Retry-After up to `maxRetryAfterMs`.
 */
export function createClearTaxClient(options: ClearTaxClientOptions): ClearTaxClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const { logger } = options;
  positiveInt('timeoutMs', options.timeoutMs);
  nonNegativeInt('retries', options.retries);
  nonNegativeInt('retryBaseMs', options.retryBaseMs);
  nonNegativeInt('maxRetryAfterMs', options.maxRetryAfterMs);
  const maxBodyBytes = positiveInt('maxBodyBytes', options.maxBodyBytes);
  const maxMessageLength = options.maxMessageLength ?? 500;
  const isTraced = options.isTraced ?? false;
  const outage = createOutageLog({
    logger,
    ...(options.outageSummaryIntervalMs !== undefined ? { summaryIntervalMs: options.outageSummaryIntervalMs } : {}),
  });
  /** Feeds the outage log: trouble is 5xx, 429, timeouts and network failures; any other answer is upstream being there. */
  function observe(result: string): void {
    if (result === 'timeout' || result === 'network' || result === '429' || /^5\d\d$/.test(result))
      outage.failed(result);
    else if (/^\d{3}$/.test(result)) outage.answered();
  }

  function statusPath(key: ActivityKey): string {
    return `/v0.2/taxable_entities/${encodeURIComponent(key.taxableEntityId)}/upload_activity/${encodeURIComponent(key.activityId)}/status`;
  }

  async function attempt(token: string, key: ActivityKey, callOptions: GetStatusOptions): Promise<StatusSnapshot> {
    const path = statusPath(key);
    const started = performance.now();
    const report = (result: string) => {
      observe(result);
      options.onAttempt?.({ result, durationMs: performance.now() - started });
    };
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const local = new AbortController();
    const signal = AbortSignal.any(
      callOptions.signal ? [timeout, local.signal, callOptions.signal] : [timeout, local.signal],
    );
    let status: number;
    let text: string | undefined;
    let retryAfter: string | null;
    try {
      const response = await fetch(base + path, {
        method: 'GET',
        headers: {
          'X-Cleartax-Auth-Token': token,
          Accept: 'application/json',
          ...(callOptions.traceparent && !isTraced ? { traceparent: callOptions.traceparent } : {}),
        },
        // A redirect would carry the token to whatever host it names; and its answer is not upstream's.
        redirect: 'manual',
        signal,
      });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      const body = response.body as unknown as
        (AsyncIterable<Buffer> & { on(event: 'error', listener: () => void): void }) | null;
      // node-fetch emits an abort on the body stream even after we stopped reading it (a later
      // timeout, our own abort below): without a listener that emit would crash the process.
      body?.on('error', ignore);
      text = await readCapped(body, maxBodyBytes);
      if (text === undefined) local.abort(); // stop downloading the rest
    } catch (error) {
      if (callOptions.signal?.aborted) {
        report('aborted');
        throw new UpstreamError(
          ErrorCode.UPSTREAM_UNAVAILABLE,
          abortMessage(callOptions.signal, 'The read was cancelled'),
          { isRetryable: false, cause: error },
        );
      }
      if (error instanceof TypeError && /header/i.test(error.message)) {
        // Never sent: the token cannot travel in a header. The caller's mistake, not upstream's.
        report('invalid-token');
        throw new UpstreamError(
          ErrorCode.UNAUTHENTICATED,
          'The ClearTax token contains characters an HTTP header cannot carry',
          { isRetryable: false },
        );
      }
      const isTimeout = timeout.aborted;
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
    if (status === 401) options.onTokenVerdict?.(token, 'refused');
    else if (status === 200 || status === 404) options.onTokenVerdict?.(token, 'accepted');
    if (text === undefined) {
      throw new UpstreamError(
        ErrorCode.UPSTREAM_BAD_RESPONSE,
        `ClearTax answered GET ${path} with a body over ${maxBodyBytes} bytes`,
        {
          isRetryable: false,
          upstream: { httpStatus: status, code: null, message: null },
        },
      );
    }
    if (status >= 300 && status < 400) {
      throw new UpstreamError(
        ErrorCode.UPSTREAM_BAD_RESPONSE,
        `ClearTax answered GET ${path} with a redirect (${status}), which is not followed`,
        {
          isRetryable: false,
          upstream: { httpStatus: status, code: null, message: null },
        },
      );
    }
    if (status !== 200) throw classify(status, text, retryAfter, path, maxMessageLength);
    const parsed = parseStatusBody(text, key);
    if (parsed.ok) return parsed.snapshot;
    throw new UpstreamError(ErrorCode.UPSTREAM_BAD_RESPONSE, `ClearTax answered GET ${path} with ${parsed.reason}`, {
      isRetryable: false,
      upstream: { httpStatus: 200, code: null, message: null },
    });
  }

  async function getStatus(
    token: string,
    key: ActivityKey,
    callOptions: GetStatusOptions = {},
  ): Promise<StatusSnapshot> {
    return pRetry(
      async () => {
        try {
          return await attempt(token, key, callOptions);
        } catch (error) {
          if (error instanceof UpstreamError && !error.isRetryable) throw new AbortError(error);
          throw error;
        }
      },
      {
        retries: callOptions.retries ?? options.retries,
        ...(callOptions.signal ? { signal: callOptions.signal } : {}),
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
          logger.debug(
            { code: error.code, attempt: attemptNumber, retriesLeft, path: statusPath(key) },
            'upstream attempt failed, retrying',
          );
          if (wait !== undefined) await delay(wait);
        },
      },
    ).catch((error: unknown) => {
      // p-retry rethrows AbortError's wrapped error; unwrap defensively either way.
      if (error instanceof AbortError && error.cause instanceof UpstreamError) throw error.cause;
      throw error;
    });
  }

  async function ping(): Promise<boolean> {
    if (outage.isFailing(RECENT_FAILURE_MS)) return false;
    try {
      const response = await fetch(base + '/', { method: 'GET', signal: AbortSignal.timeout(options.timeoutMs) });
      await response.text().catch(() => undefined);
      return response.status < 500;
    } catch {
      return false;
    }
  }

  return { getStatus, ping };
}

/** The body as text, or undefined once it grows past `maxBytes` (reading stops there). */
async function readCapped(body: AsyncIterable<Buffer> | null, maxBytes: number): Promise<string | undefined> {
  if (!body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function ignore(): void {}

function classify(
  status: number,
  text: string,
  retryAfter: string | null,
  path: string,
  maxMessageLength: number,
): UpstreamError {
  const upstream = parseErrorBody(status, text, maxMessageLength);
  const said = upstream.message ? `: ${upstream.message}` : '';
  switch (true) {
    case status === 404:
      return new UpstreamError(ErrorCode.NOT_FOUND, upstream.message ?? `ClearTax has no activity at GET ${path}`, {
        upstream,
        isRetryable: false,
      });
    case status === 401:
      return new UpstreamError(ErrorCode.UNAUTHENTICATED, `ClearTax rejected the token (401)${said}`, {
        upstream,
        isRetryable: false,
      });
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
      return new UpstreamError(
        ErrorCode.UPSTREAM_BAD_RESPONSE,
        `ClearTax answered GET ${path} with unexpected ${status}${said}`,
        {
          upstream,
          isRetryable: false,
        },
      );
  }
}

function networkReason(error: unknown): string {
  const code =
    (error as { code?: unknown; cause?: { code?: unknown } } | null)?.code ??
    (error as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === 'string' ? code : 'network error';
}
