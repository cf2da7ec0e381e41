import type { ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import { nonNegativeInt } from '../options.js';

/**
 * Apollo's multipart HTTP protocol for GraphQL subscriptions (what Apollo Client's
 * `HttpLink`, Apollo Kotlin, Apollo iOS and Sandbox speak), framed as Apollo Router
 * writes it. Hand-written: no maintained Node library serves it (Apollo Server 5
 * streams multipart only for `@defer`; graphql-yoga streams subscriptions as SSE),
 * and the framing is a few lines. Parsing and execution are the core's.
 */
export const MULTIPART_CONTENT_TYPE = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0';

/** Whether an `Accept` header asks for multipart subscriptions (`multipart/mixed` with `subscriptionSpec=1.0`). */
export function acceptsMultipartSubscription(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept
    .split(',')
    .some((type) => /^\s*multipart\/mixed\s*(;|$)/i.test(type) && /;\s*subscriptionSpec\s*=\s*"?1\.0"?/i.test(type));
}

const DELIMITER = '\r\n--graphql';
const PART_HEAD = '\r\ncontent-type: application/json\r\n\r\n';

export interface MultipartStreamOptions {
  /** A `{}` part whenever nothing was written this long (HTTP_STREAM_HEARTBEAT_MS). */
  heartbeatMs: number;
}

/**
 * Writes one subscription as a multipart stream: the head, each result as a
 * `{"payload":…}` part, `{}` heartbeats in silences, and the closing delimiter
 * however it ends (its results end, the client goes away, or the stream is closed).
 * Resolves once the response has ended.
 */
export async function writeMultipart(
  response: ServerResponse,
  results: AsyncIterableIterator<ExecutionResult> | ExecutionResult,
  options: MultipartStreamOptions,
): Promise<void> {
  const heartbeatMs = nonNegativeInt('heartbeatMs', options.heartbeatMs);
  response.writeHead(200, {
    'content-type': MULTIPART_CONTENT_TYPE,
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
  });
  // Nothing buffers the first bytes: the client knows at once the stream is open.
  response.write(DELIMITER);
  let heartbeat: ReturnType<typeof setTimeout> | undefined;
  const write = (json: string) => {
    if (response.writableEnded || response.destroyed) return;
    response.write(`${PART_HEAD}${json}${DELIMITER}`);
    clearTimeout(heartbeat);
    if (heartbeatMs > 0) heartbeat = setTimeout(() => write('{}'), heartbeatMs);
  };
  if (heartbeatMs > 0) heartbeat = setTimeout(() => write('{}'), heartbeatMs);
  try {
    if (Symbol.asyncIterator in results) {
      // A client gone away ends the iteration: the stream's lifetime returns the source.
      for await (const result of results) write(JSON.stringify({ payload: result }));
    } else {
      write(JSON.stringify({ payload: results }));
    }
  } catch (error) {
    // A fatal transport error: its own part, then the closing delimiter all the same.
    write(
      JSON.stringify({
        payload: null,
        errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      }),
    );
    throw error;
  } finally {
    clearTimeout(heartbeat);
    if (!response.writableEnded && !response.destroyed) response.end('--\r\n');
  }
}
