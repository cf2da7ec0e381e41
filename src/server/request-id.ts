import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { requestScopeOf, type RequestScope } from '../request-scope.js';

const scopes = new WeakMap<Request, RequestScope>();

/**
 * Gives every HTTP request its scope: the incoming `X-Request-Id` when it is sane
 * (1-128 visible ASCII characters), else a new one, echoed as a response header
 * and written back into the request's headers (so Apollo's plugins see the id in
 * use); and a valid W3C `traceparent`, forwarded upstream.
 */
export function requestScope(): RequestHandler {
  return (req, res, next) => {
    const scope = requestScopeOf(req.headers, randomUUID);
    scopes.set(req, scope);
    req.headers['x-request-id'] = scope.requestId;
    res.setHeader('X-Request-Id', scope.requestId);
    next();
  };
}

/** The scope `requestScope()` gave this request. */
export function scopeOfRequest(req: Request): RequestScope {
  return scopes.get(req) ?? requestScopeOf(req.headers, randomUUID);
}
