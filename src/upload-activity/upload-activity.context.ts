import { BadUserInputError, GatewayError, UnauthenticatedError } from '../errors.js';
import { ErrorCode, type ActivityKey } from '../domain/index.js';
import { isHeaderSafeToken, UNSAFE_TOKEN_MESSAGE } from '../token.js';
import { createStatusLoader, type StatusLoader } from './status-loader.js';
import type { StatusSource } from './status-source.js';
import type { StatusSubscription } from './status-subscription.js';
import type { StatusWatcher } from './status-watcher.js';

/** What the upload-activity resolvers need from one operation's context. */
export interface UploadActivityContext {
  /** Checks an `activityIds` list against MAX_ACTIVITY_IDS (BAD_USER_INPUT). */
  checkActivityIds(ids: readonly unknown[]): void;
  /** This operation's DataLoader, created on first use; UNAUTHENTICATED without a token. */
  statusLoader(): StatusLoader;
  /** Follows activities for a subscription; UNAUTHENTICATED without a token. */
  watchStatus(keys: readonly ActivityKey[]): StatusSubscription;
}

export interface UploadActivityContextOptions {
  source: StatusSource;
  watcher: StatusWatcher;
  /** The upstream token this operation reads with; undefined answers UNAUTHENTICATED. */
  token: string | undefined;
  /** Longest `activityIds` list (MAX_ACTIVITY_IDS). @default none: required */
  maxActivityIds: number;
  /** How long this operation's reads may wait for upstream, from now (REQUEST_DEADLINE_MS). @default none: required */
  requestDeadlineMs: number;
  /** W3C trace context of the request, forwarded upstream by the reads it starts. @default none */
  traceparent?: string;
  /**
   * The operation's connection, when it has one (WebSocket): `onClose(fn)` runs `fn`
   * when the socket closes (at once if it has) and returns a function that
   * unregisters it. Subscriptions are served only where there is a connection.
   * @default none: an HTTP operation
   */
  connection?: { onClose(close: () => void): () => void };
}

export function createUploadActivityContext(options: UploadActivityContextOptions): UploadActivityContext {
  const { source, watcher, token, maxActivityIds, connection, requestDeadlineMs, traceparent } = options;
  let loader: StatusLoader | undefined;
  const requireToken = () => {
    if (token === undefined) throw new UnauthenticatedError();
    if (!isHeaderSafeToken(token)) throw new UnauthenticatedError(UNSAFE_TOKEN_MESSAGE);
    return token;
  };
  return {
    checkActivityIds(ids) {
      if (ids.length > maxActivityIds) {
        throw new BadUserInputError(`activityIds may list at most ${maxActivityIds} ids, got ${ids.length}`);
      }
    },
    statusLoader() {
      // The deadline runs from the operation's start; it limits this operation's waiting only.
      loader ??= createStatusLoader(source, requireToken(), {
        signal: AbortSignal.timeout(requestDeadlineMs),
        ...(traceparent ? { traceparent } : {}),
      });
      return loader;
    },
    watchStatus(keys) {
      if (!connection) throw new GatewayError(ErrorCode.BAD_USER_INPUT, 'Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql');
      const subscription = watcher.watch(requireToken(), keys);
      // A socket that closes ends the subscription, even one still starting.
      const unregister = connection.onClose(() => subscription.close());
      void subscription.closed.then(unregister);
      return subscription;
    },
  };
}
