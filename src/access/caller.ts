import type { GatewayError } from '../errors.js';

/**
 * Who is asking, as the access mode established it from what the request or the
 * WebSocket `connection_init` presented. Nothing below the resolvers sees the
 * caller's credentials: only `upstreamToken` travels on, and only upstream-ward.
 */
export interface Caller {
  /** Opaque and stable: the fairness key of the upstream queue, the rate-limit key, the log id. Never a credential. */
  readonly id: string;
  /** The ClearTax token reads are made with on this caller's behalf. */
  readonly upstreamToken: string;
  /** Whether this caller may read the taxable entity's activities (checked before any shared read). */
  mayRead(taxableEntityId: string): boolean;
  /** When the caller's credentials stop being valid (epoch ms); a WebSocket closes then. @default never */
  readonly expiresAt?: number;
}

/** A caller, or the UNAUTHENTICATED error that says why there is none. */
export type AccessResult = { caller: Caller } | { denied: GatewayError };

/** What a request or a WebSocket upgrade shows, whatever the mode looks at. */
export interface Presented {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The peer address of the socket. */
  readonly remoteAddress: string | undefined;
}

/** One access mode of the contract: turns what a caller presents into a `Caller`. */
export interface AccessStrategy {
  readonly mode: 'passthrough' | 'jwt' | 'open';
  /** An HTTP request's headers. Synchronous where the mode needs no I/O. */
  fromRequest(request: Presented): AccessResult | Promise<AccessResult>;
  /**
   * A WebSocket `connection_init`: its `connectionParams`, and the upgrade request.
   * Synchronous where the mode needs no I/O, so the acknowledgement is not delayed.
   */
  fromConnection(
    connectionParams: Readonly<Record<string, unknown>> | undefined,
    request: Presented,
  ): AccessResult | Promise<AccessResult>;
}
