import cors from 'cors';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';

/** Headers a browser app may send, per the contract's "Browser access". */
const ALLOWED_HEADERS = [
  'content-type',
  'authorization',
  'x-cleartax-auth-token',
  'apollo-require-preflight',
  'x-apollo-operation-name',
];

/** /graphql/stream (GraphQL over SSE) also allows what graphql-sse's single connection mode uses: its stream token, PUT and DELETE. */
export const SSE_CORS = { headers: ['x-graphql-event-stream-token'], methods: ['PUT', 'DELETE'] } as const;

export interface BrowserAccessOptions {
  /** CORS_ORIGINS: origins allowed from another origin, or '*' ([] = same-origin only). */
  origins: readonly string[] | '*';
  /** TRUST_PROXY: the own origin may come from X-Forwarded-Host. */
  trustProxy: boolean;
  /** How long a browser may cache a preflight. @default 600 */
  maxAgeSeconds?: number;
  /** Told of each browser origin refused (not listed, not the gateway's own). @default none */
  onRefused?: (origin: string, transport: 'http' | 'ws') => void;
}

/** Told of one refused browser origin and the transport it came on. */
export type OriginRefusalLog = (origin: string, transport: 'http' | 'ws') => void;

/**
 * Logs a refused browser origin at `info` at most once per origin per `intervalMs`,
 * with what to set, so "my app cannot connect" can be answered from the server's
 * logs without one line per request.
 */
export function createOriginRefusalLog(logger: Logger, intervalMs = 60_000): OriginRefusalLog {
  const recent = new LRUCache<string, true>({ max: 1000, ttl: intervalMs });
  return (origin, transport) => {
    // An origin is a URL a client writes: keep the logged value short.
    const shown = origin.slice(0, 200);
    if (recent.has(shown)) return;
    recent.set(shown, true);
    logger.info(
      { origin: shown, transport },
      'browser origin refused: it is not in CORS_ORIGINS (add it there to allow this app)',
    );
  };
}

/** Whether `origin` is listed in CORS_ORIGINS. */
export function isListedOrigin(origin: string, origins: readonly string[] | '*'): boolean {
  return origins === '*' || origins.includes(origin);
}

/**
 * CORS for /graphql with the `cors` package. An origin that is not listed gets no
 * CORS header at all: `cors` given a list still answers an unlisted origin's
 * preflight with Allow-Methods and Allow-Headers, so it only runs for listed ones.
 */
export function corsFor(
  options: BrowserAccessOptions,
  extra: { readonly headers: readonly string[]; readonly methods: readonly string[] } = { headers: [], methods: [] },
): RequestHandler {
  const handler = cors({
    origin: true,
    methods: ['GET', 'POST', 'OPTIONS', ...extra.methods],
    allowedHeaders: [...ALLOWED_HEADERS, ...extra.headers],
    maxAge: options.maxAgeSeconds ?? 600,
    optionsSuccessStatus: 204,
  });
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (typeof origin === 'string' && isListedOrigin(origin, options.origins)) return handler(req, res, next);
    // No CORS headers: the browser will not let the page read the answer (same-origin pages need none).
    if (typeof origin === 'string' && !isOwnOrigin(req, origin, options.trustProxy))
      options.onRefused?.(origin, 'http');
    next();
  };
}

/**
 * Whether the request's `Host` is one the gateway answers to (ALLOWED_HOSTS): the
 * host name without its port, in lower case. Refusing other names defeats DNS
 * rebinding, where a page on `evil.example` resolves its name to the gateway's
 * loopback address and then passes the same-origin check.
 */
export function isAllowedHost(request: IncomingMessage, allowed: readonly string[] | '*'): boolean {
  if (allowed === '*') return true;
  const host = request.headers.host?.toLowerCase();
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return allowed.includes(name);
}

/** Express middleware: 403 for a `Host` outside ALLOWED_HOSTS. */
export function allowedHostsOnly(allowed: readonly string[] | '*'): RequestHandler {
  return (req, res, next) => {
    if (isAllowedHost(req, allowed)) return next();
    res.status(403).type('text/plain').send('Host not allowed: add it to ALLOWED_HOSTS');
  };
}

/**
 * The WebSocket upgrade check: no Origin (not a browser) or the gateway's own origin
 * (the Origin's host is the request's Host, or X-Forwarded-Host behind a trusted
 * proxy) or a listed one. Anything else is refused with 403 before the handshake.
 */
export function isAllowedUpgradeOrigin(request: IncomingMessage, options: BrowserAccessOptions): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (isListedOrigin(origin, options.origins) || isOwnOrigin(request, origin, options.trustProxy)) return true;
  options.onRefused?.(origin, 'ws');
  return false;
}

/** Whether `origin`'s host is the request's own: its Host, or X-Forwarded-Host behind a trusted proxy. */
function isOwnOrigin(request: IncomingMessage, origin: string, trustProxy: boolean): boolean {
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  const forwarded = request.headers['x-forwarded-host'];
  const ownHost =
    (trustProxy && typeof forwarded === 'string' ? forwarded.split(',')[0]?.trim() : undefined) ?? request.headers.host;
  return host !== '' && host === ownHost;
}
