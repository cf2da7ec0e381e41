/**
 * WebSocket close codes the gateway sends that graphql-ws's `CloseCode` enum has no
 * name for (RFC 6455's own, and one of ours). Use graphql-ws's `CloseCode` where it
 * has one (e.g. `CloseCode.Forbidden`, 4403).
 */
export const GatewayCloseCode = {
  /** RFC 6455 1000 (normal closure): a socket that never subscribed. */
  Idle: 1000,
  /** RFC 6455 1008 (policy violation): more messages than the socket's allowance. */
  TooManyMessages: 1008,
  /** RFC 6455 1013 (try again later): an outage of ours, which clients retry. */
  TryAgainLater: 1013,
  /** Past the open connections one caller may hold (same number as graphql-ws's TooManyInitialisationRequests, another meaning). */
  TooManyConnectionsForCaller: 4429,
} as const;
