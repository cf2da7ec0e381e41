import type { AccessStrategy, Presented } from './caller.js';

export interface OpenAccessOptions {
  /** The server's ClearTax token everyone reads with. */
  upstreamToken: string;
  /** The client address of a request (TRUST_PROXY applied; see client-address.ts). */
  clientAddress: (request: Presented) => string;
}

/**
 * `open`: anyone who reaches the gateway reads with the server's token. For local
 * demos; the caller id is the client address, for rate limits and logs.
 */
export function createOpenAccess(options: OpenAccessOptions): AccessStrategy {
  const callerOf = (request: Presented) => ({
    caller: { id: `ip:${options.clientAddress(request)}`, upstreamToken: options.upstreamToken, mayRead: () => true },
  });
  return {
    mode: 'open',
    fromRequest: (request) => callerOf(request),
    fromConnection: (_params, request) => callerOf(request),
  };
}
