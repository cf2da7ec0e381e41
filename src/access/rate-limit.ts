import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** The answer of a rate limit: go on, or wait this long. */
export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateLimit {
  /** Takes `points` (activity reads) from `callerId`'s allowance for the current minute. */
  consume(callerId: string, points: number): Promise<RateDecision>;
}

export interface RateLimitOptions {
  /** Activity reads per caller per minute (RATE_LIMIT_PER_MINUTE); 0 turns the limit off. */
  perMinute: number;
  /**
   * The store: rate-limiter-flexible's memory limiter by default; multi-instance
   * mode passes its Redis limiter (same interface), nothing else changes.
   * @default new RateLimiterMemory({ points: perMinute, duration: 60 })
   */
  limiter?: RateLimiterAbstract;
}

/** A per-caller rate limit over rate-limiter-flexible (counters per caller id, a fixed one-minute window). */
export function createRateLimit(options: RateLimitOptions): RateLimit {
  if (options.perMinute === 0) return { consume: async () => ({ ok: true }) };
  const limiter = options.limiter ?? new RateLimiterMemory({ points: options.perMinute, duration: 60 });
  return {
    async consume(callerId, points) {
      if (points <= 0) return { ok: true };
      try {
        await limiter.consume(callerId, points);
        return { ok: true };
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes)
          return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
        throw rejection;
      }
    },
  };
}
