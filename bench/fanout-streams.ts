/**
 * Bench clients for the HTTP streaming transports of `bench:fanout`: one request per
 * subscription on a shared keep-alive `node:http` Agent (undici is not installed),
 * with the framing parsed minimally, as a bench may (it measures, it does not test
 * conformance; test/ does that).
 *
 * - Apollo multipart (`POST /graphql`): the body starts with `\r\n--graphql`; each part is
 *   `\r\ncontent-type: application/json\r\n\r\n{"payload":…}` followed by `\r\n--graphql`;
 *   `{}` parts are heartbeats; `--\r\n` after the last delimiter ends it.
 * - GraphQL over SSE (`POST /graphql/stream`, graphql-sse's distinct connection mode):
 *   `event: next\ndata: <json>\n\n` per result, `event: complete` at the end; `:` lines are pings.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import type { ExecutionResult } from 'graphql';

export type StreamTransport = 'multipart' | 'sse';

export interface StreamHandlers {
  next(result: ExecutionResult): void;
  error(error: unknown): void;
  complete(): void;
}

export interface StreamTarget {
  /** The gateway's `http://host:port/graphql`. */
  url: string;
  agent: Agent;
  headers: Record<string, string>;
}

/** One socket per open stream: no cap on sockets, kept alive for reuse after a stream ends. */
export function streamAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256 });
}

const ACCEPT: Record<StreamTransport, string> = {
  multipart: 'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json',
  sse: 'text/event-stream',
};

/**
 * Opens one subscription stream; resolves once its response head arrived (the stream
 * is open, or refused: a non-200 answer is reported through `handlers.error`).
 */
export function subscribeStream(
  transport: StreamTransport,
  target: StreamTarget,
  body: { query: string; variables: Record<string, unknown> },
  handlers: StreamHandlers,
): Promise<void> {
  const url = transport === 'sse' ? `${target.url}/stream` : target.url;
  const payload = JSON.stringify(body);
  return new Promise((resolve) => {
    let isSettled = false;
    const fail = (error: unknown) => {
      if (isSettled) return;
      isSettled = true;
      handlers.error(error);
    };
    const req = request(url, {
      method: 'POST',
      agent: target.agent,
      headers: {
        ...target.headers,
        accept: ACCEPT[transport],
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
      },
    });
    req.on('error', (error) => {
      fail(error);
      resolve();
    });
    req.on('response', (res: IncomingMessage) => {
      resolve();
      res.setEncoding('utf8');
      if (res.statusCode !== 200) {
        let text = '';
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => fail(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`)));
        return;
      }
      const parse = transport === 'sse' ? sseParser(handlers) : multipartParser(handlers);
      res.on('data', (chunk: string) => {
        try {
          if (parse(chunk) === 'complete' && !isSettled) {
            isSettled = true;
            handlers.complete();
          }
        } catch (error) {
          fail(error);
          res.destroy();
        }
      });
      res.on('end', () => fail(new Error(`${transport} stream ended without its end`)));
      res.on('error', fail);
    });
    req.end(payload);
  });
}

const DELIMITER = '\r\n--graphql';

/** Feeds chunks of a multipart body; answers 'complete' once the closing delimiter arrived. */
function multipartParser(handlers: StreamHandlers): (chunk: string) => 'complete' | undefined {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    let at: number;
    while ((at = buffer.indexOf(DELIMITER)) >= 0) {
      const part = buffer.slice(0, at);
      buffer = buffer.slice(at + DELIMITER.length);
      const bodyAt = part.indexOf('\r\n\r\n');
      if (bodyAt < 0) continue; // the empty preamble before the first delimiter
      const json = JSON.parse(part.slice(bodyAt + 4)) as { payload?: ExecutionResult | null; errors?: unknown };
      if (json.payload) handlers.next(json.payload);
      else if (json.errors) throw new Error(`multipart transport error: ${JSON.stringify(json.errors)}`);
      // else a heartbeat `{}`
    }
    return buffer.startsWith('--') ? 'complete' : undefined;
  };
}

/** Feeds chunks of an event stream; answers 'complete' at `event: complete`. */
function sseParser(handlers: StreamHandlers): (chunk: string) => 'complete' | undefined {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    let at: number;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const message = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      let event = 'message';
      let data = '';
      for (const line of message.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trimStart();
      }
      if (event === 'next') handlers.next(JSON.parse(data) as ExecutionResult);
      else if (event === 'complete') return 'complete';
    }
    return undefined;
  };
}

/** Runs `open` for each index with at most `concurrency` pending at once. */
export async function inBatches(count: number, concurrency: number, open: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await open(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
