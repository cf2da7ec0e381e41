import { UnauthenticatedError } from '../errors.js';
import { hashToken, isHeaderSafeToken, resolveConnectionToken, resolveToken, UNSAFE_TOKEN_MESSAGE } from '../token.js';
import type { AccessResult, AccessStrategy } from './caller.js';

/**
 * `passthrough`: the caller presents its own ClearTax token and reads with it;
 * upstream decides what it may see (401/403). Never lends the server's token.
 */
export function createPassthroughAccess(): AccessStrategy {
  const callerOf = (token: string | undefined, missing: string): AccessResult => {
    if (token === undefined) return { denied: new UnauthenticatedError(missing) };
    if (!isHeaderSafeToken(token)) return { denied: new UnauthenticatedError(UNSAFE_TOKEN_MESSAGE) };
    return { caller: { id: `token:${hashToken(token)}`, upstreamToken: token, mayRead: () => true } };
  };
  return {
    mode: 'passthrough',
    fromRequest: ({ headers }) => callerOf(resolveToken(headers['x-cleartax-auth-token'], undefined), 'No ClearTax token: send the X-Cleartax-Auth-Token header'),
    fromConnection: (params) => callerOf(resolveConnectionToken(params, undefined), 'No ClearTax token: send connectionParams.authToken'),
  };
}
