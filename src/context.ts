import { UnauthenticatedError } from './errors.js';
import { createStatusLoader, type StatusLoader } from './upload-activity/status-loader.js';
import type { StatusSource } from './upload-activity/status-source.js';

/** What every resolver of one operation shares. */
export interface RequestContext {
  /** The resolved token (client's, else the server fallback), or undefined. */
  readonly token: string | undefined;
  /** The token, or an UNAUTHENTICATED error before anything reaches upstream. */
  requireToken(): string;
  /** This operation's DataLoader, created on first use. */
  statusLoader(): StatusLoader;
}

export function createRequestContext(source: StatusSource, token: string | undefined): RequestContext {
  let loader: StatusLoader | undefined;
  const requireToken = () => {
    if (token === undefined) throw new UnauthenticatedError();
    return token;
  };
  return {
    token,
    requireToken,
    statusLoader() {
      loader ??= createStatusLoader(source, requireToken());
      return loader;
    },
  };
}
