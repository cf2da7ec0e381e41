import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { isValidRequestId, isValidTraceparent, runInRequestScope } from '../request-scope.js';

/**
 * Gives every HTTP request its scope: the incoming `X-Request-Id` when it is sane
 * (1-128 visible ASCII characters), else a new one, echoed as a response header;
 * and a valid W3C `traceparent`, forwarded upstream. Everything the request does
 * runs inside that scope, so its log lines carry the id.
 */
export function requestScope(): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const requestId = isValidRequestId(incoming) ? incoming : randomUUID();
    const traceparent = req.headers.traceparent;
    res.setHeader('X-Request-Id', requestId);
    runInRequestScope({ requestId, ...(isValidTraceparent(traceparent) ? { traceparent } : {}) }, next);
  };
}
