import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../domain/index.js';
import { refusal } from '../errors.js';
import { positiveInt } from '../options.js';
import type { Lifetime, Refused } from './core.js';

/** The HTTP streaming protocols (the WebSocket is counted by its own endpoint). */
export type StreamProtocol = 'multipart' | 'sse';

/** One open stream: its lifetime ends when the client goes away, the stream ends, or the gateway drains. */
export interface OpenStream extends Lifetime {
  /** Ends the lifetime (runs every `onClose`); idempotent. */
  close(): void;
}

export interface StreamRegistryOptions {
  /** Open streams at most, all protocols together; past it 503 (MAX_STREAMS). */
  maxStreams: number;
  /** Open streams one client address may hold; past it 503 (MAX_CONNECTIONS_PER_ADDRESS). */
  maxPerAddress: number;
  /** The client address of a request (the peer, or the forwarded one behind trusted proxies). */
  clientAddress(request: IncomingMessage): string;
}

/**
 * The open HTTP streams of every streaming transport: their caps, their count per
 * protocol (for `gateway_http_streams`), and their ends. A stream's lifetime ends
 * once, whichever comes first: its client going away (the response closes), its
 * transport ending it, or the drain (`closeAll`), which makes each transport write
 * its normal end (the closing delimiter, `complete`).
 */
export interface StreamRegistry {
  /** Opens a stream for this request, or refuses it (503) past a cap. */
  open(protocol: StreamProtocol, request: IncomingMessage, response: ServerResponse): OpenStream | Refused;
  /**
   * A lifetime for an operation that runs on a stream opened by another request
   * (graphql-sse's single connection mode): not a stream of its own, but ended by
   * `closeAll` all the same.
   */
  track(): OpenStream;
  /** Ends every tracked operation, then every open stream (the drain). */
  closeAll(): void;
  /** Open streams per protocol. */
  readonly counts: Readonly<Record<StreamProtocol, number>>;
}

export function createStreamRegistry(options: StreamRegistryOptions): StreamRegistry {
  const maxStreams = positiveInt('maxStreams', options.maxStreams);
  const maxPerAddress = positiveInt('maxPerAddress', options.maxPerAddress);
  const open = new Set<OpenStream>();
  const tracked = new Set<OpenStream>();
  const counts: Record<StreamProtocol, number> = { multipart: 0, sse: 0 };
  const perAddress = new Map<string, number>();
  const tooMany = (message: string): Refused => ({
    refused: [
      refusal(ErrorCode.RATE_LIMITED, message, { status: 503, retryAfterSeconds: 5, retryAfterHeaderOnly: true }),
    ],
  });

  return {
    open(protocol, request, response) {
      if (open.size >= maxStreams) return tooMany('Too many open streams: try again shortly');
      const address = options.clientAddress(request);
      const fromAddress = perAddress.get(address) ?? 0;
      if (fromAddress >= maxPerAddress) return tooMany('Too many open streams from this address');
      perAddress.set(address, fromAddress + 1);
      counts[protocol] += 1;
      const stream = createLifetime(() => {
        open.delete(stream);
        counts[protocol] -= 1;
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left > 0) perAddress.set(address, left);
        else perAddress.delete(address);
      });
      open.add(stream);
      // The client went away (or the stream ended): free its subscribers now.
      response.once('close', () => stream.close());
      return stream;
    },
    track() {
      const lifetime = createLifetime(() => tracked.delete(lifetime));
      tracked.add(lifetime);
      return lifetime;
    },
    closeAll() {
      for (const lifetime of [...tracked]) lifetime.close();
      for (const stream of [...open]) stream.close();
    },
    counts,
  };
}

/** A lifetime that runs `onClosed`, then every registered closer, once. */
function createLifetime(onClosed: () => void): OpenStream {
  const closers = new Set<() => void>();
  let isClosed = false;
  return {
    onClose(close) {
      if (isClosed) {
        close();
        return () => undefined;
      }
      closers.add(close);
      return () => closers.delete(close);
    },
    close() {
      if (isClosed) return;
      isClosed = true;
      onClosed();
      for (const close of closers) close();
      closers.clear();
    },
  };
}
