import { createHash } from 'node:crypto';

/**
 * A short, one-way fingerprint of a ClearTax token. Every key that caches,
 * coalesces or polls on behalf of a token includes it, so one token's answer can
 * never reach another token, and the token itself never sits in a key or a log.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 22);
}

/** A client-sent token (trimmed, empty = none), else the server's fallback. */
export function resolveToken(sent: unknown, fallback: string | undefined): string | undefined {
  const value = Array.isArray(sent) ? sent[0] : sent;
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return fallback;
}
