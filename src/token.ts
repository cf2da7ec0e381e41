import { createHash } from 'node:crypto';

/**
 * A short, one-way fingerprint of a ClearTax token. Every key that caches,
 * coalesces or polls on behalf of a token includes it, so one token's answer can
 * never reach another token, and the token itself never sits in a key or a log.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 22);
}

/**
 * Whether a token can travel in the X-Cleartax-Auth-Token header: printable ASCII
 * only. Anything else (a line break, `€`) is the caller's bad input, refused at the
 * edge before any upstream attempt.
 */
export function isHeaderSafeToken(token: string): boolean {
  return /^[\x20-\x7E]+$/.test(token);
}

/** The UNAUTHENTICATED message for a token that is not header-safe (never echoes it). */
export const UNSAFE_TOKEN_MESSAGE = 'The ClearTax token contains characters an HTTP header cannot carry';

/** A client-sent token (trimmed, empty = none), else the server's fallback. */
export function resolveToken(sent: unknown, fallback: string | undefined): string | undefined {
  const value = Array.isArray(sent) ? sent[0] : sent;
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return fallback;
}

/**
 * A `connectionParams` value under `name` in any case (clients spell header-like
 * keys `Authorization`, `authorization`, `AUTHORIZATION`): trimmed, empty = none,
 * the exact spelling first.
 */
export function connectionParam(
  connectionParams: Readonly<Record<string, unknown>> | undefined,
  name: string,
): string | undefined {
  if (!connectionParams) return undefined;
  if (Object.hasOwn(connectionParams, name)) {
    const exact = resolveToken(connectionParams[name], undefined);
    if (exact !== undefined) return exact;
  }
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(connectionParams)) {
    if (key !== name && key.toLowerCase() === lower) {
      const found = resolveToken(value, undefined);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * A WebSocket connection's token: `connectionParams.authToken`, else a key named
 * `X-Cleartax-Auth-Token` in any case, else the server's fallback.
 */
export function resolveConnectionToken(
  connectionParams: Readonly<Record<string, unknown>> | undefined,
  fallback: string | undefined,
): string | undefined {
  return (
    resolveToken(connectionParams?.authToken, undefined) ??
    connectionParam(connectionParams, 'x-cleartax-auth-token') ??
    fallback
  );
}
