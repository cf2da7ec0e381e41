import { UnauthenticatedError } from '../errors.js';
import { hashToken, isHeaderSafeToken, resolveConnectionToken, resolveToken, UNSAFE_TOKEN_MESSAGE } from '../token.js';
import type { AccessResult, AccessStrategy, Presented } from './caller.js';
import type { TokenVerdicts } from './token-verdicts.js';

export interface PassthroughAccessOptions {
  /** What ClearTax said of tokens lately: refused ones, and unjudged ones per address, are answered at the edge. */
  verdicts: TokenVerdicts;
  /** The client address of a request (TRUST_PROXY applied; see client-address.ts). */
  clientAddress: (request: Presented) => string;
}

/**
 * `passthrough`: the caller presents its own ClearTax token and reads with it;
 * upstream decides what it may see (401/403). Never lends the server's token.
 */
export function createPassthroughAccess(options: PassthroughAccessOptions): AccessStrategy {
  const callerOf = (token: string | undefined, missing: string, request: Presented): AccessResult => {
    if (token === undefined) return { denied: new UnauthenticatedError(missing) };
    if (!isHeaderSafeToken(token)) return { denied: new UnauthenticatedError(UNSAFE_TOKEN_MESSAGE) };
    const hash = hashToken(token);
    const refusal = options.verdicts.check(hash, options.clientAddress(request));
    if (refusal) return { denied: refusal };
    return { caller: { id: `token:${hash}`, upstreamToken: token, mayRead: () => true } };
  };
  return {
    mode: 'passthrough',
    fromRequest: (request) =>
      callerOf(
        resolveToken(request.headers['x-cleartax-auth-token'], undefined),
        'No ClearTax token: send the X-Cleartax-Auth-Token header',
        request,
      ),
    fromConnection: (params, request) =>
      callerOf(
        resolveConnectionToken(params, undefined),
        'No ClearTax token: send connectionParams.authToken',
        request,
      ),
  };
}
