import { BadUserInputError, GatewayError, ErrorCode, UnauthenticatedError } from './errors.js';
import type { ActivityKey } from './upstream/cleartax.types.js';
import { createStatusLoader, type StatusLoader } from './upload-activity/status-loader.js';
import type { StatusSource } from './upload-activity/status-source.js';
import type { StatusSubscription } from './upload-activity/status-subscription.js';
import type { StatusWatcher } from './upload-activity/status-watcher.js';

/** What every resolver of one operation shares. */
export interface RequestContext {
  /** The resolved token (client's, else the server fallback), or undefined. */
  readonly token: string | undefined;
  /** Checks an `activityIds` list against MAX_ACTIVITY_IDS (BAD_USER_INPUT). */
  checkActivityIds(ids: readonly unknown[]): void;
  /** This operation's DataLoader, created on first use. */
  statusLoader(): StatusLoader;
  /** Follows activities for a subscription (WebSocket operations only). */
  watchStatus(keys: readonly ActivityKey[]): StatusSubscription;
}

export interface RequestContextOptions {
  source: StatusSource;
  token: string | undefined;
  maxActivityIds: number;
  /** Present for WebSocket operations. */
  watcher?: StatusWatcher;
  /** Registers a subscription with its connection, which ends it when the socket closes. */
  track?: (subscription: StatusSubscription) => void;
}

export function createRequestContext(options: RequestContextOptions): RequestContext {
  const { source, token, maxActivityIds, watcher, track } = options;
  let loader: StatusLoader | undefined;
  const requireToken = () => {
    if (token === undefined) throw new UnauthenticatedError();
    return token;
  };
  return {
    token,
    checkActivityIds(ids) {
      if (ids.length > maxActivityIds) {
        throw new BadUserInputError(`activityIds may list at most ${maxActivityIds} ids, got ${ids.length}`);
      }
    },
    statusLoader() {
      loader ??= createStatusLoader(source, requireToken());
      return loader;
    },
    watchStatus(keys) {
      if (!watcher) throw new GatewayError(ErrorCode.BAD_USER_INPUT, 'Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql');
      const subscription = watcher.watch(requireToken(), keys);
      track?.(subscription);
      return subscription;
    },
  };
}
