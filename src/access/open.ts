import type { AccessStrategy, Presented } from './caller.js';

export interface OpenAccessOptions {
  /** The server's ClearTax token everyone reads with. */
  upstreamToken: string;
  /** Take the client address from the first X-Forwarded-For entry (TRUST_PROXY). @default false */
  trustProxy?: boolean;
}

/** The client address: the socket's peer, or the first X-Forwarded-For entry behind a trusted proxy. */
export function clientAddress(request: Presented, trustProxy: boolean): string {
  const forwarded = request.headers['x-forwarded-for'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return (trustProxy && first) || request.remoteAddress || 'unknown';
}

/**
 * `open`: anyone who reaches the gateway reads with the server's token. For local
 * demos; the caller id is the client address, for rate limits and logs.
 */
export function createOpenAccess(options: OpenAccessOptions): AccessStrategy {
  const trustProxy = options.trustProxy ?? false;
  const callerOf = (request: Presented) => ({ caller: { id: `ip:${clientAddress(request, trustProxy)}`, upstreamToken: options.upstreamToken, mayRead: () => true } });
  return {
    mode: 'open',
    fromRequest: (request) => callerOf(request),
    fromConnection: (_params, request) => callerOf(request),
  };
}
