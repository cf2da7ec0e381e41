import proxyaddr from 'proxy-addr';
import type { TrustProxy } from '../config.js';
import type { Presented } from './caller.js';

/** The client address of a presented request. */
export type ClientAddress = (request: Presented) => string;

/**
 * The client address of a request: the socket's peer, or, behind trusted proxies,
 * the X-Forwarded-For entry the nearest untrusted hop wrote, found from the right
 * as express's `trust proxy` does (proxy-addr). The left-most entry, which the
 * client writes itself, is never believed.
 */
export function createClientAddress(trust: TrustProxy): ClientAddress {
  const isTrusted: (address: string, hop: number) => boolean =
    trust === false
      ? () => false
      : typeof trust === 'number'
        ? (_address, hop) => hop < trust
        : proxyaddr.compile([...trust]);
  return (request) => {
    const remoteAddress = request.remoteAddress ?? 'unknown';
    if (trust === false || trust === 0) return remoteAddress;
    const req = { headers: request.headers, socket: { remoteAddress }, connection: { remoteAddress } };
    return proxyaddr(req as unknown as Parameters<typeof proxyaddr>[0], isTrusted) || remoteAddress;
  };
}
