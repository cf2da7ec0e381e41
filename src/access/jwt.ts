import { createPublicKey } from 'node:crypto';
import { createRemoteJWKSet, errors, importSPKI, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import { ErrorCode } from '../domain/index.js';
import { GatewayError, UnauthenticatedError } from '../errors.js';
import { hashToken } from '../token.js';
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
  /** AUTH_ENTITIES_CLAIM. @default 'taxable_entity_ids' */
  entitiesClaim?: string;
  /** The server's ClearTax token every caller reads with. */
  upstreamToken: string;
  /** Leeway for exp and nbf. @default 30 */
  clockToleranceSeconds?: number;
  /** JWKS fetch timeout. @default 5000 */
  jwksTimeoutMs?: number;
  /** Least time between two JWKS fetches for an unknown `kid`: a rotated key works within it. @default 2000 */
  jwksCooldownMs?: number;
  logger: Logger;
}

type Key = Parameters<typeof jwtVerify>[1];

/**
 * `jwt`: the caller presents a JWT (HTTP `Authorization: Bearer`, WebSocket
 * `connectionParams.authorization` or `.token`); jose verifies it against one key
 * source with an allow-list of algorithms (never `none`), `exp` required. Every
 * caller reads with the server's ClearTax token; the entities claim says which
 * taxable entities it may read. A ClearTax token a caller sends is ignored.
 */
export async function createJwtAccess(options: JwtAccessOptions): Promise<AccessStrategy> {
  const { logger } = options;
  const entitiesClaim = options.entitiesClaim ?? 'taxable_entity_ids';
  let key: Key | JWTVerifyGetKey;
  let algorithms = options.algorithms;
  if ('jwksUrl' in options.key) {
    key = createRemoteJWKSet(new URL(options.key.jwksUrl), {
      timeoutDuration: options.jwksTimeoutMs ?? 5000,
      cooldownDuration: options.jwksCooldownMs ?? 2000,
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

  async function verify(jwt: string | undefined): Promise<AccessResult> {
    if (!jwt) return { denied: new UnauthenticatedError('No JWT: send Authorization: Bearer <jwt>') };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, key as JWTVerifyGetKey, {
        algorithms: algorithms!,
        requiredClaims: ['exp'],
        clockTolerance: options.clockToleranceSeconds ?? 30,
        ...(options.issuer ? { issuer: options.issuer } : {}),
        ...(options.audience ? { audience: options.audience } : {}),
      }));
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'ERR_UNKNOWN';
      logger.debug({ jwtError: code }, 'JWT rejected');
      if (!(error instanceof errors.JOSEError)) logger.warn({ jwtError: code }, 'JWT key source failed');
      return { denied: new UnauthenticatedError(error instanceof errors.JWTExpired ? 'The JWT has expired' : 'The JWT is not valid') };
    }
    const claim = payload[entitiesClaim];
    const entities = claim === '*' ? '*' : Array.isArray(claim) ? new Set(claim.filter((e): e is string => typeof e === 'string').map((e) => e.toLowerCase())) : undefined;
    if (entities === undefined) return { denied: new GatewayError(ErrorCode.UNAUTHENTICATED, `The JWT has no ${entitiesClaim} claim (a list of taxable entity ids, or "*")`) };
    return {
      caller: {
        id: payload.sub ? `sub:${payload.sub}` : `jwt:${hashToken(jwt)}`,
        upstreamToken: options.upstreamToken,
        mayRead: (entityId) => entities === '*' || entities.has(entityId.toLowerCase()),
        expiresAt: payload.exp! * 1000,
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
      const token = params?.token;
      return verify(bearer(params?.authorization) ?? (typeof token === 'string' && token.trim() ? token.trim() : undefined));
    },
  };
}
