import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { createHandler, type HandlerOptions } from 'graphql-sse/lib/use/express';
import { OperationRecord, type AccessLog } from './access-log.js';
import {
  headersOf,
  isRefused,
  maskedRefusal,
  statusOf,
  type OperationCore,
  type Refused,
  type Session,
} from './core.js';
import { streamedResults } from './live.js';
import { scopeOfRequest } from './request-id.js';
import type { OpenStream, StreamRegistry } from './streams.js';

export interface SseOptions<TSession, TContext> {
  /** The transport-free core: access, documents, limits, admission, masking. */
  core: OperationCore<TSession, TContext>;
  /** Open streams: MAX_STREAMS, per address, the gauge, the drain. */
  streams: StreamRegistry;
  /** One line per ended operation (ACCESS_LOG). */
  accessLog: AccessLog;
}

/** graphql-sse's early answer: a body and its status. */
type EarlyResponse = readonly [string | null, { status: number; statusText: string; headers?: Record<string, string> }];

/** What one operation on a stream keeps until it completes. */
interface SseOperation {
  record: OperationRecord;
  lifetime: OpenStream;
}

/**
 * GraphQL over Server-Sent Events (the graphql-sse protocol, both of its modes),
 * served by the `graphql-sse` library and wired to the core through its hooks:
 * `authenticate` asks the core who this is, `onConnect` takes a stream slot,
 * `onSubscribe` hands the core the operation and answers its refusal or its
 * results. An error that ends a subscription is its last `next`, then `complete`.
 */
export function createSseHandler<TSession, TContext>(options: SseOptions<TSession, TContext>): RequestHandler {
  const { core, streams, accessLog } = options;
  const sessions = new WeakMap<Request, Session<TSession>>();
  /** The stream a request opened (distinct connection mode, or a reserved single-connection stream). */
  const opened = new WeakMap<Request, OpenStream>();
  const operations = new WeakMap<Request, SseOperation>();

  /** A refusal before the stream, as JSON with its status: masked here unless the core already did. */
  const answer = (refused: Refused): EarlyResponse => [
    JSON.stringify({ errors: refused.refused.map((error) => error.toJSON()) }),
    {
      status: statusOf(refused),
      statusText: 'Refused',
      headers: { 'content-type': 'application/json; charset=utf-8', ...Object.fromEntries(headersOf(refused)) },
    },
  ];

  const handlerOptions: HandlerOptions = {
    async authenticate(req) {
      const raw = req.raw;
      const session = await core.authenticate({
        via: 'request',
        headers: raw.headers,
        remoteAddress: raw.socket.remoteAddress,
      });
      if (isRefused(session)) return answer(maskedRefusal(session, core.mask));
      if (session.denied) return answer(maskedRefusal({ refused: [session.denied] }, core.mask));
      sessions.set(raw, session);
      // As graphql-sse's own default: the reserved stream's token, else a new one (distinct connections).
      const token = req.headers.get('x-graphql-event-stream-token');
      if (token) return token;
      return new URL(req.url, 'http://localhost/').searchParams.get('token') ?? randomUUID();
    },
    onConnect(req) {
      const stream = streams.open('sse', req.raw, req.context.res);
      if (isRefused(stream)) return answer(maskedRefusal(stream, core.mask));
      opened.set(req.raw, stream);
      // At the drain, a stream still open after its operations completed is ended too.
      stream.onClose(() => {
        const { res } = req.context;
        setTimeout(() => {
          if (!res.writableEnded) res.end();
        }, 100).unref();
      });
      return undefined;
    },
    async onSubscribe(req, params) {
      const raw = req.raw;
      const session = sessions.get(raw);
      const record = new OperationRecord(scopeOfRequest(raw).requestId, 'sse');
      if (!session) throw new Error('graphql-sse subscribed before authenticating');
      // Distinct connection mode: the operation's request is its stream; single connection mode: it runs on a reserved one.
      const lifetime = opened.get(raw) ?? streams.track();
      const prepared = await core.prepare(session, params, {
        request: scopeOfRequest(raw),
        record,
        lifetime,
      });
      if (isRefused(prepared)) {
        accessLog.write(record);
        if (!opened.has(raw)) lifetime.close();
        return answer(prepared);
      }
      operations.set(raw, { record, lifetime });
      if (prepared.kind !== 'subscription') return prepared.execute();
      const result = await prepared.subscribe();
      if (!(Symbol.asyncIterator in result)) {
        // Request errors (no `data`): refused before the stream, as JSON with 400.
        if (!('data' in result)) return answer({ refused: result.errors ?? [] });
        return result;
      }
      return streamedResults(result, { expiresAt: session.expiresAt, record, mask: core.mask });
    },
    onComplete(_ctx, req) {
      const operation = operations.get(req.raw);
      if (!operation) return;
      operations.delete(req.raw);
      accessLog.write(operation.record);
      operation.lifetime.close();
    },
  };
  const handle = createHandler(handlerOptions);
  return (req, res, next) => {
    handle(req, res).catch(next);
  };
}
