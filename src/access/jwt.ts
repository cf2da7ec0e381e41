import { createPublicKey } from 'node:crypto';
import {
  createRemoteJWKSet,
  customFetch,
  errors,
  importSPKI,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { Logger } from 'pino';
import { ErrorCode } from '../domain/index.js';
import { GatewayError, UnauthenticatedError } from '../errors.js';
import { nonEmptyString, nonNegativeInt, positiveInt } from '../options.js';
import { connectionParam, hashToken } from '../token.js';
import type { AccessResult, AccessStrategy } from './caller.js';

export interface JwtAccessOptions {
  /** Exactly one key source (AUTH_JWKS_URL, AUTH_JWT_PUBLIC_KEY, AUTH_JWT_SECRET). */
  key: { jwksUrl: string } | { publicKeyPem: string } | { secret: string };
  /** Accepted `alg`s (AUTH_JWT_ALGORITHMS). @default by key type: RS256 (RSA), ES256 (EC), EdDSA (Ed25519), HS256 (secret); RS256 and ES256 for a JWKS */
  algorithms?: string[] | undefined;
  /** AUTH_JWT_ISSUER. @default not checked */
  issuer?: string | undefined;
  /** AUTH_JWT_AUDIENCE. @default not checked */
  audience?: string | undefined;
  /** AUTH_ENTITIES_CLAIM. */
  entitiesClaim: string;
  /** The server's ClearTax token every caller reads with. */
  upstreamToken: string;
  /** Leeway for exp and nbf. @default 30 */
  clockToleranceSeconds?: number;
  /** JWKS fetch timeout: how long a hanging JWKS may hold a request whose key is not cached (AUTH_JWKS_TIMEOUT_MS). */
  jwksTimeoutMs: number;
  /**
   * Least time between two JWKS fetches, whether the last one succeeded or failed: a rotated key
   * works within it, and neither unknown `kid`s nor an outage make more fetches (AUTH_JWKS_COOLDOWN_MS).
   */
  jwksCooldownMs: number;
  /**
   * Age after which the cached key set is refetched (with the cooldown). A failed refetch keeps the
   * last good set: cached keys keep working while the JWKS is down, however long (AUTH_JWKS_CACHE_MAX_AGE_MS).
   */
  jwksCacheMaxAgeMs: number;
  logger: Logger;
}

type Key = Parameters<typeof jwtVerify>[1];

/**
 * `jwt`: the caller presents a JWT (HTTP `Authorization: Bearer`, WebSocket
 * `connectionParams.authorization` in any case, or `.token`, bare or `Bearer <jwt>`);
 * jose verifies it against one key source with an allow-list of algorithms (never
 * `none`), `exp` required. A JWKS that cannot be fetched for a key not cached is
 * AUTH_UNAVAILABLE (the server's trouble), never UNAUTHENTICATED. Every
 * caller reads with the server's ClearTax token; the entities claim says which
 * taxable entities it may read. A ClearTax token a caller sends is ignored.
 */
export async function createJwtAccess(options: JwtAccessOptions): Promise<AccessStrategy> {
  const { logger } = options;
  const entitiesClaim = nonEmptyString('entitiesClaim', options.entitiesClaim);
  const jwksTimeoutMs = positiveInt('jwksTimeoutMs', options.jwksTimeoutMs);
  const jwksCooldownMs = nonNegativeInt('jwksCooldownMs', options.jwksCooldownMs);
  const jwksCacheMaxAgeMs = positiveInt('jwksCacheMaxAgeMs', options.jwksCacheMaxAgeMs);
  let key: Key | JWTVerifyGetKey;
  let algorithms = options.algorithms;
  if ('jwksUrl' in options.key) {
    key = createJwksKeySource(new URL(options.key.jwksUrl), {
      timeoutMs: jwksTimeoutMs,
      cooldownMs: jwksCooldownMs,
      cacheMaxAgeMs: jwksCacheMaxAgeMs,
      logger,
    });
    algorithms ??= ['RS256', 'ES256'];
  } else if ('publicKeyPem' in options.key) {
    const type = createPublicKey(options.key.publicKeyPem).asymmetricKeyType;
    algorithms ??= [type === 'ec' ? 'ES256' : type === 'ed25519' ? 'EdDSA' : 'RS256'];
    key = await importSPKI(options.key.publicKeyPem, algorithms[0]!);
  } else {
    key = new TextEncoder().encode(options.key.secret);
    algorithms ??= ['HS256'];
  }

  const clockTolerance = options.clockToleranceSeconds ?? 30;

  async function verify(jwt: string | undefined): Promise<AccessResult> {
    if (!jwt) return { denied: new UnauthenticatedError('No JWT: send Authorization: Bearer <jwt>') };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, key as JWTVerifyGetKey, {
        algorithms: algorithms!,
        requiredClaims: ['exp'],
        clockTolerance,
        ...(options.issuer ? { issuer: options.issuer } : {}),
        ...(options.audience ? { audience: options.audience } : {}),
      }));
    } catch (error) {
      if (error instanceof KeySourceUnavailable)
        return { denied: new GatewayError(ErrorCode.AUTH_UNAVAILABLE, error.message) };
      const code = (error as { code?: string }).code ?? 'ERR_UNKNOWN';
      logger.debug({ jwtError: code }, 'JWT rejected');
      // jose's own errors are the JWT's fault; anything else is a fault of ours (the key source's are handled above).
      if (!(error instanceof errors.JOSEError))
        logger.warn({ jwtError: code, error: (error as Error).name }, 'JWT verification failed unexpectedly');
      return {
        denied: new UnauthenticatedError(
          error instanceof errors.JWTExpired ? 'The JWT has expired' : 'The JWT is not valid',
        ),
      };
    }
    // jose checks `sub` only against an expected subject: a number or an object here would become a made-up caller id.
    if (payload.sub !== undefined && typeof payload.sub !== 'string')
      return { denied: new UnauthenticatedError('The JWT sub claim must be a string') };
    const claim = payload[entitiesClaim];
    const entities =
      claim === '*'
        ? '*'
        : Array.isArray(claim)
          ? new Set(claim.filter((e): e is string => typeof e === 'string').map((e) => e.toLowerCase()))
          : undefined;
    if (entities === undefined)
      return {
        denied: new GatewayError(
          ErrorCode.UNAUTHENTICATED,
          `The JWT has no ${entitiesClaim} claim (a list of taxable entity ids, or "*")`,
        ),
      };
    return {
      caller: {
        id: payload.sub ? `sub:${payload.sub}` : `jwt:${hashToken(jwt)}`,
        upstreamToken: options.upstreamToken,
        mayRead: (entityId) => entities === '*' || entities.has(entityId.toLowerCase()),
        // One rule for HTTP and WebSocket: jose refuses the JWT from the first second at or past
        // exp + tolerance, so the socket closes then (not at exp, which jose still accepts).
        expiresAt: Math.ceil(payload.exp! + clockTolerance) * 1000,
      },
    };
  }

  const bearer = (value: unknown): string | undefined => {
    const text = Array.isArray(value) ? value[0] : value;
    const match = typeof text === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(text) : null;
    return match?.[1];
  };

  return {
    mode: 'jwt',
    fromRequest: ({ headers }) => verify(bearer(headers.authorization)),
    fromConnection: (params) => {
      // `authorization` in any case (it is a header name to most clients); `token` bare or as `Bearer <jwt>`.
      const token = connectionParam(params, 'token');
      return verify(bearer(connectionParam(params, 'authorization')) ?? bearer(token) ?? token);
    },
  };
}

/** The JWT key source could not be asked (JWKS unreachable, timed out, non-200, unreadable) and the key is not cached. */
class KeySourceUnavailable extends Error {
  override name = 'KeySourceUnavailable';
}

/** A warning about a failing JWKS is written at most this often. */
const OUTAGE_LOG_INTERVAL_MS = 60_000;

interface JwksKeySourceOptions {
  timeoutMs: number;
  cooldownMs: number;
  cacheMaxAgeMs: number;
  logger: Logger;
}

/**
 * A JWKS key source over jose's `createRemoteJWKSet` (its fetch, timeout, parsing,
 * key selection and request coalescing), with the refresh policy taken over: jose
 * is given an unlimited cache age and cooldown, so it only fetches when told to
 * (`reload()`), and its key set stays the last good one whatever a reload meets.
 *
 * - At most one fetch per `cooldownMs`, counted from the end of the last fetch,
 *   successful or not: unknown `kid`s and outages cannot multiply fetches.
 * - A key that is not cached while the JWKS cannot be fetched: `KeySourceUnavailable`
 *   (the server's trouble, AUTH_UNAVAILABLE), not a bad token.
 * - A cached key keeps working while the JWKS is down, past `cacheMaxAgeMs`; during an
 *   outage the periodic refetch runs in the background, so no request waits on it.
 * - Warns at most once a minute while fetches fail; says when the JWKS answers again.
 */
function createJwksKeySource(url: URL, options: JwksKeySourceOptions): JWTVerifyGetKey {
  const { logger, cooldownMs, cacheMaxAgeMs } = options;
  const jwks = url.origin + url.pathname; // for logs: never any userinfo or query
  let lastStatus: number | undefined;
  const remote = createRemoteJWKSet(url, {
    timeoutDuration: options.timeoutMs,
    cooldownDuration: Infinity,
    cacheMaxAge: Infinity,
    // The status of a non-200 answer, for the warning (jose's error does not carry it).
    [customFetch]: async (input, init) => {
      lastStatus = undefined;
      const response = await fetch(input, init);
      lastStatus = response.status;
      return response;
    },
  });
  /** When the last good key set arrived; undefined until one has. */
  let loadedAt: number | undefined;
  /** When the last fetch ended, however it ended. */
  let settledAt = -Infinity;
  let isFailing = false;
  let failingSince = 0;
  let failuresUnlogged = 0;
  let warnedAt = -Infinity;
  let pending: Promise<boolean> | undefined;

  const mayFetch = () => pending !== undefined || Date.now() - settledAt >= cooldownMs;

  const succeeded = () => {
    settledAt = loadedAt = Date.now();
    if (isFailing) logger.info({ jwks, downForMs: settledAt - failingSince }, 'JWKS answers again');
    isFailing = false;
    failuresUnlogged = 0;
    return true;
  };
  const failed = (error: unknown) => {
    settledAt = Date.now();
    if (!isFailing) failingSince = settledAt;
    isFailing = true;
    failuresUnlogged += 1;
    if (settledAt - warnedAt >= OUTAGE_LOG_INTERVAL_MS) {
      warnedAt = settledAt;
      logger.warn(
        {
          jwks,
          reason: describe(error),
          ...(lastStatus !== undefined && lastStatus !== 200 ? { status: lastStatus } : {}),
          failedFetches: failuresUnlogged,
          keysCached: loadedAt !== undefined,
        },
        loadedAt === undefined
          ? 'JWKS cannot be fetched: JWTs are refused with AUTH_UNAVAILABLE until it answers'
          : 'JWKS cannot be fetched: verifying with the keys cached before, new kids refused with AUTH_UNAVAILABLE',
      );
      failuresUnlogged = 0;
    }
    return false;
  };
  /** One fetch at a time; resolves to whether it brought a key set. Never rejects. */
  const refresh = (): Promise<boolean> => {
    pending ??= remote
      .reload()
      .then(succeeded, failed)
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
  const unavailable = () => new KeySourceUnavailable('The JWT key source (JWKS) cannot be reached');

  return async (protectedHeader, token) => {
    if (loadedAt === undefined || Date.now() - loadedAt >= cacheMaxAgeMs) {
      if (loadedAt === undefined || !isFailing) {
        // No keys yet, or a routine refresh of a healthy JWKS: wait for it (one fetch, shared).
        if (mayFetch()) await refresh();
        if (loadedAt === undefined) throw unavailable();
      } else if (mayFetch()) {
        // The JWKS is down and keys are cached: keep verifying with them, try again aside.
        void refresh();
      }
    }
    try {
      return await remote(protectedHeader, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      // An unknown kid: a rotation, unless the cooldown says the set was just read.
      if (mayFetch()) {
        if (await refresh()) return remote(protectedHeader, token);
        throw unavailable();
      }
      if (isFailing) throw unavailable();
      throw error;
    }
  };
}

/** Why a JWKS fetch failed, in words safe for a log: an error code and message, never a body. */
function describe(error: unknown): string {
  if (error instanceof errors.JOSEError) return `${error.code}: ${error.message}`;
  const cause = (error as { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : (error as Error).name;
  return `${code}: ${(error as Error).message}`;
}
