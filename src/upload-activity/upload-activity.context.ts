import { ErrorCode, type ActivityKey } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import { createStatusLoader, type StatusLoader } from './status-loader.js';
import type { StatusSource } from './status-source.js';
import type { StatusSubscription } from './status-subscription.js';
import type { StatusWatcher } from './status-watcher.js';

/** What the upload-activity resolvers need from one operation's context. */
export interface UploadActivityContext {
  /** Whom this operation's reads are charged to (rate limit, fair queue); undefined without a reader. */
  readonly callerId: string | undefined;
  /** Before any read: UNAUTHENTICATED without a reader; FORBIDDEN for an entity the reader may not read. */
  checkEntity(taxableEntityId: string): void;
  /** This operation's DataLoader, created on first use. */
  statusLoader(): StatusLoader;
  /** Follows activities for a subscription. */
  watchStatus(keys: readonly ActivityKey[]): StatusSubscription;
}

/**
 * Who reads for this operation, as access decided; never the caller's own
 * credentials. access/'s `Caller` has this shape, so it is passed as it is.
 */
export type Reader =
  | { readonly id: string; readonly upstreamToken: string; mayRead(taxableEntityId: string): boolean }
  | { readonly denied: GatewayError };

export interface UploadActivityContextOptions {
  source: StatusSource;
  watcher: StatusWatcher;
  reader: Reader;
  /** How long this operation's reads may wait for upstream, from its first read (REQUEST_DEADLINE_MS). */
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
  return new OperationContext(options);
}

/**
 * A class rather than closures: one is made per operation, and per WebSocket
 * subscription it lives as long as the subscription (measured per subscriber).
 */
class OperationContext implements UploadActivityContext {
  private loader: StatusLoader | undefined;

  constructor(private readonly options: UploadActivityContextOptions) {}

  private reader(): Exclude<Reader, { denied: GatewayError }> {
    const { reader } = this.options;
    if ('denied' in reader) throw reader.denied;
    return reader;
  }

  get callerId(): string | undefined {
    const { reader } = this.options;
    return 'denied' in reader ? undefined : reader.id;
  }

  checkEntity(taxableEntityId: string): void {
    if (!this.reader().mayRead(taxableEntityId)) {
      throw new GatewayError(ErrorCode.FORBIDDEN, 'This caller may not read activities of this taxable entity');
    }
  }

  statusLoader(): StatusLoader {
    const { upstreamToken, id: callerId } = this.reader();
    const { source, requestDeadlineMs, traceparent } = this.options;
    // The deadline runs from the operation's first read; it limits this operation's waiting only.
    this.loader ??= createStatusLoader(source, upstreamToken, {
      signal: AbortSignal.timeout(requestDeadlineMs),
      callerId,
      ...(traceparent ? { traceparent } : {}),
    });
    return this.loader;
  }

  watchStatus(keys: readonly ActivityKey[]): StatusSubscription {
    const { connection, watcher } = this.options;
    if (!connection)
      throw new GatewayError(
        ErrorCode.BAD_USER_INPUT,
        'Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql',
      );
    const subscription = watcher.watch(this.reader().upstreamToken, keys);
    // A socket that closes ends the subscription, even one still starting.
    const unregister = connection.onClose(() => subscription.close());
    void subscription.closed.then(unregister);
    return subscription;
  }
}
