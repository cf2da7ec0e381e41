import type { LinkState, Transport } from './apollo';

const TRANSPORT_NAMES: Record<Transport, string> = { websocket: 'WebSocket', http: 'HTTP streaming' };

/**
 * One health signal for the whole board, true to what is known. Nothing watched: Idle.
 * The gateway connection comes next (without it nothing is known about upstream); then
 * upstream: while the gateway says it cannot reach ClearTax (stale subscription events,
 * UPSTREAM_UNAVAILABLE answers), "Live" would be a lie. "Live" only while the
 * subscription transport is connected, and then over which one: the WebSocket, or HTTP
 * streaming where WebSockets cannot connect.
 */
export function ConnectionPill({
  isWatching,
  state,
  transport,
  wasDisconnected,
  isUpstreamDown,
}: {
  isWatching: boolean;
  state: LinkState;
  transport: Transport;
  wasDisconnected: boolean;
  isUpstreamDown: boolean;
}) {
  if (!isWatching)
    return (
      <p className="banner" data-testid="connection-banner" data-state="idle">
        Idle
      </p>
    );
  const isGatewayDown = state === 'disconnected' || (state === 'connecting' && wasDisconnected);
  if (isUpstreamDown && !isGatewayDown)
    return (
      <p className="banner warn" role="status" data-testid="connection-banner" data-state="upstream-down">
        Upstream unreachable: showing the last known state
      </p>
    );
  if (state === 'idle')
    return (
      <p className="banner" data-testid="connection-banner" data-state="idle">
        Idle: every watched activity has finished
      </p>
    );
  if (state === 'connected')
    return (
      <p
        className={`banner ok${wasDisconnected ? ' recovered' : ''}`}
        data-testid="connection-banner"
        data-state="connected"
        data-transport={transport}
      >
        {wasDisconnected ? 'Live again: reconnected' : 'Live'} ({TRANSPORT_NAMES[transport]})
      </p>
    );
  if (state === 'connecting' && !wasDisconnected)
    return (
      <p className="banner" data-testid="connection-banner" data-state="connecting">
        Connecting…
      </p>
    );
  return (
    <p className="banner down" role="alert" data-testid="connection-banner" data-state="disconnected">
      Live connection lost: reconnecting…
    </p>
  );
}
