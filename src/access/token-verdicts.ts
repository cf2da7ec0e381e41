import { LRUCache } from 'lru-cache';
import { ErrorCode } from '../domain/index.js';
import { GatewayError } from '../errors.js';

export interface TokenVerdicts {
  /**
   * Before a `passthrough` caller's token is used: the refusal to answer at the
   * edge, or undefined to go on. A token ClearTax refused lately is UNAUTHENTICATED;
   * a token it has not judged yet is RATE_LIMITED when its client address already
   * has `maxDoubtfulPerAddress` tokens that are unjudged or refused.
   */
  check(tokenHash: string, address: string): GatewayError | undefined;
  /** Whether ClearTax refused this token within the window. */
  isRefused(tokenHash: string): boolean;
  /** ClearTax's verdict on a token, from an answer to a read made with it. */
  judged(tokenHash: string, verdict: 'accepted' | 'refused'): void;
}

export interface TokenVerdictsOptions {
  /** Unjudged or refused tokens one address may present within `windowMs`. */
  maxDoubtfulPerAddress: number;
  /** How long a refusal is remembered, and the window of the per-address count. @default 60000 */
  windowMs?: number;
  /** How long an accepted token is trusted without counting against its address. @default 600000 */
  acceptedForMs?: number;
}

/**
 * In `passthrough` the gateway cannot check a token itself: only ClearTax can. So
 * it remembers what ClearTax said. A token refused (401/403) is answered at the
 * edge for a minute, and one address cannot present more than a bounded number of
 * tokens ClearTax has not accepted: invented tokens reach upstream a few dozen
 * times a minute per address, not at the attacker's rate. Only token hashes are kept.
 */
export function createTokenVerdicts(options: TokenVerdictsOptions): TokenVerdicts {
  const windowMs = options.windowMs ?? 60_000;
  const known = new LRUCache<string, 'accepted' | 'refused'>({ max: 100_000, ttl: options.acceptedForMs ?? 600_000 });
  const doubtful = new LRUCache<string, Set<string>>({ max: 100_000, ttl: windowMs });
  const addressOf = new LRUCache<string, string>({ max: 100_000, ttl: windowMs });

  return {
    check(tokenHash, address) {
      const verdict = known.get(tokenHash);
      if (verdict === 'refused')
        return new GatewayError(
          ErrorCode.UNAUTHENTICATED,
          'ClearTax refused this token a moment ago: send a valid X-Cleartax-Auth-Token',
        );
      if (verdict === 'accepted') return undefined;
      let tokens = doubtful.get(address);
      if (tokens?.has(tokenHash)) return undefined;
      if (tokens && tokens.size >= options.maxDoubtfulPerAddress) {
        return new GatewayError(
          ErrorCode.RATE_LIMITED,
          'Too many ClearTax tokens that ClearTax has not accepted come from this address: try again in a minute',
        );
      }
      if (!tokens) doubtful.set(address, (tokens = new Set()));
      tokens.add(tokenHash);
      addressOf.set(tokenHash, address);
      return undefined;
    },
    isRefused(tokenHash) {
      return known.get(tokenHash) === 'refused';
    },
    judged(tokenHash, verdict) {
      if (verdict === 'refused') {
        known.set(tokenHash, 'refused', { ttl: windowMs });
        return;
      }
      known.set(tokenHash, 'accepted');
      const address = addressOf.get(tokenHash);
      if (address !== undefined) doubtful.get(address)?.delete(tokenHash);
    },
  };
}
