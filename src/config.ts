import proxyaddr from 'proxy-addr';
import { z } from 'zod';

/**
 * Everything the gateway can be told through its environment, validated once at
 * start-up. Only this module reads `process.env` (via `loadConfig(process.env)` in
 * main.ts); everything else receives the typed `Config`.
 */
export interface Config {
  /** PORT: where the gateway listens (0 = any free port). @default 4000 */
  port: number;
  /** HOST: the interface the gateway listens on. @default '127.0.0.1' */
  host: string;
  /** CLEARTAX_BASE_URL: upstream base URL. @default undefined: start the embedded simulator and use it */
  cleartaxBaseUrl: string | undefined;
  /** CLEARTAX_AUTH_TOKEN: the server's upstream token, for `jwt` and `open` modes (ignored in `passthrough`). @default undefined */
  cleartaxAuthToken: string | undefined;
  /** AUTH_MODE: who may read what (see the contract's "Access"). @default 'passthrough'; 'open' with the embedded simulator */
  authMode: AuthMode;
  /** JWT verification for `jwt` mode; undefined in the other modes. */
  jwt: JwtConfig | undefined;
  /** CORS_ORIGINS: browser origins allowed from another origin, or '*'. @default [] (same-origin only) */
  corsOrigins: string[] | '*';
  /** TRUST_PROXY: `false`, trusted proxy hops (`true` = 1), or trusted proxy addresses/CIDRs, as express's `trust proxy`; the client address is the X-Forwarded-For entry those proxies saw, and X-Forwarded-Host is the own host. @default false */
  trustProxy: TrustProxy;
  /** RATE_LIMIT_PER_ADDRESS_PER_MINUTE: in passthrough and open, activity reads per client address per minute, beside the per-caller limit (0 = off). @default 10 × RATE_LIMIT_PER_MINUTE (a NAT of users) */
  rateLimitPerAddressPerMinute: number;
  /** ALLOWED_HOSTS: `Host` names answered (others get 403), or '*'. @default loopback names when HOST is a loopback address, else '*' */
  allowedHosts: string[] | '*';
  /** RATE_LIMIT_PER_MINUTE: activity reads per caller per minute (0 = off). @default 1200 */
  rateLimitPerMinute: number;
  /** MAX_QUERY_DEPTH: fields on the longest path, leaf included, fragments inlined. @default 15 */
  maxQueryDepth: number;
  /** MAX_ALIASES: aliases per operation. @default 30 */
  maxAliases: number;
  /** MAX_OPERATION_IDS: activity ids in one operation over all fields and aliases. @default 200 */
  maxOperationIds: number;
  /** POLL_INTERVAL_MS: subscription poll interval right after a change. @default 2000 */
  pollIntervalMs: number;
  /** STALE_AFTER_MS: failed polling time before a subscription event says isStale: true. @default 30000 */
  staleAfterMs: number;
  /** WEB_APP_ENABLED: serve the live status board at /. @default true */
  webAppEnabled: boolean;
  /** POLL_MAX_INTERVAL_MS: ceiling of the adaptive interval, of error backoff and of any Retry-After wait. @default 30000 */
  pollMaxIntervalMs: number;
  /** UPSTREAM_TIMEOUT_MS: per upstream attempt, headers and body. @default 5000 */
  upstreamTimeoutMs: number;
  /** UPSTREAM_MAX_CONCURRENCY: upstream requests in flight at once. @default 32 */
  upstreamMaxConcurrency: number;
  /** UPSTREAM_RETRIES: retries after the first attempt for retry-safe failures (5xx, 429, timeout, network). @default 2 */
  upstreamRetries: number;
  /** UPSTREAM_RETRY_BASE_MS: first retry delay; doubles per retry, with full jitter. @default 100 */
  upstreamRetryBaseMs: number;
  /** UPSTREAM_MAX_RETRY_AFTER_MS: a 429 whose Retry-After is longer fails a query at once with RATE_LIMITED. @default 2000 */
  upstreamMaxRetryAfterMs: number;
  /** MAX_ACTIVITY_IDS: longest `activityIds` list accepted. @default 100 */
  maxActivityIds: number;
  /** MAX_SUBSCRIPTIONS_PER_CONNECTION: operations one WebSocket may hold. @default 100 */
  maxSubscriptionsPerConnection: number;
  /** TERMINAL_CACHE_SIZE: terminal snapshots cached (0 = off). @default 10000 */
  terminalCacheSize: number;
  /** TERMINAL_CACHE_TTL_MS: age limit of a cached terminal snapshot. @default 3600000 */
  terminalCacheTtlMs: number;
  /** REDIS_URL: multi-instance mode on this Redis (see src/cluster/). @default undefined: in-process */
  redisUrl: string | undefined;
  /** ACCESS_LOG: one `info` line per completed HTTP operation and per ended subscription. @default true */
  accessLog: boolean;
  /** LOG_LEVEL: pino level. @default 'info' */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** NODE_ENV=production: production defaults (no Sandbox, no introspection, no simulator). @default false */
  isProduction: boolean;
  /** SANDBOX_ENABLED: Apollo Sandbox as the landing page at /graphql. @default true, false with NODE_ENV=production */
  sandboxEnabled: boolean;
  /** INTROSPECTION_ENABLED: schema introspection. @default true, false with NODE_ENV=production */
  introspectionEnabled: boolean;
  /** MAX_BODY_BYTES: largest HTTP request body and WebSocket message. @default 102400 */
  maxBodyBytes: number;
  /** MAX_QUERY_TOKENS: lexical tokens per GraphQL document, checked while parsing. @default 2000 */
  maxQueryTokens: number;
  /** MAX_CONNECTIONS_PER_ADDRESS: open WebSockets (and HTTP streams) from one client address, and in jwt mode per caller; past it 503 (or close 4429 at init). @default 1000 */
  maxConnectionsPerAddress: number;
  /** WS_IDLE_TIMEOUT_MS: a WebSocket that has not subscribed this long after its init is closed. @default 60000 */
  wsIdleTimeoutMs: number;
  /** FEDERATION_SUBGRAPH: serve the schema as an Apollo Federation 2 subgraph (`_service`, `_entities`, `@key`). @default false */
  federationSubgraph: boolean;
  /** TRUSTED_DOCUMENTS: path of a persisted-document manifest (sha256 → text); only those documents run. @default none: any document */
  trustedDocuments: string | undefined;
  /**
   * OpenTelemetry tracing: on when OTEL_EXPORTER_OTLP_ENDPOINT or
   * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set and OTEL_TRACES_EXPORTER is not `none`
   * (the SDK reads the other OTEL_* variables itself, as the standard says). @default false
   */
  tracingEnabled: boolean;
  /** HTTP_STREAM_HEARTBEAT_MS: a multipart subscription stream silent this long gets a `{}` heartbeat part. @default 5000 */
  httpStreamHeartbeatMs: number;
  /** MAX_STREAMS: open HTTP subscription streams (multipart + SSE); past it 503. @default 10000 */
  maxStreams: number;
  /** MAX_NEW_TOKENS_PER_ADDRESS: in passthrough, tokens ClearTax has not accepted (unjudged or refused) one client address may present per minute; past it RATE_LIMITED at the edge. @default 50 */
  maxNewTokensPerAddress: number;
  /** MAX_PENDING_DOCUMENTS: new documents one caller may have waiting to be parsed and validated; past it RATE_LIMITED. @default 20 */
  maxPendingDocuments: number;
  /** MAX_FRAGMENTS: fragment definitions per document, counted before validation. @default 50 */
  maxFragments: number;
  /** MAX_CONNECTIONS: open WebSockets; past it upgrades get 503. @default 10000 */
  maxConnections: number;
  /** WS_MAX_MESSAGES_PER_SECOND: messages one WebSocket may send per second; past it, close 1008. @default 100 */
  wsMaxMessagesPerSecond: number;
  /** UPSTREAM_MAX_BODY_BYTES: larger upstream bodies are UPSTREAM_BAD_RESPONSE. @default 65536 */
  upstreamMaxBodyBytes: number;
  /** TERMINAL_CACHE_MAX_BYTES: estimated memory the terminal cache may hold. @default 16777216 */
  terminalCacheMaxBytes: number;
  /** REQUEST_DEADLINE_MS: longest an operation waits for upstream before UPSTREAM_UNAVAILABLE. @default 10000 */
  requestDeadlineMs: number;
  /** SHUTDOWN_NOTICE_MS: at the start of a drain, how long the gateway keeps listening with /readyz at 503 and `Connection: close` on every answer, so a load balancer sees the drain and keep-alive clients leave before sockets close (at most half of SHUTDOWN_GRACE_MS). @default 2000 */
  shutdownNoticeMs: number;
  /** SHUTDOWN_GRACE_MS: drain time on SIGTERM/SIGINT; in-flight upstream reads are aborted shortly before it ends. @default 10000 */
  shutdownGraceMs: number;
  /** METRICS_PORT: serve /metrics on this port (METRICS_HOST) instead of the main one. @default undefined: on the main port */
  metricsPort: number | undefined;
  /** METRICS_HOST: where METRICS_PORT listens. @default '127.0.0.1' */
  metricsHost: string;
  /** SIMULATOR_STEP_MS: lifecycle clock step of the embedded simulator. @default 3000 */
  simulatorStepMs: number;
  /** SIMULATOR_PORT: port of the embedded simulator, stable across restarts (0 = any free port). @default 41234 */
  simulatorPort: number;
}

/** TRUST_PROXY: no proxy, a number of trusted hops, or the trusted proxies' addresses/CIDRs (as express's `trust proxy`). */
export type TrustProxy = false | number | readonly string[];

export type AuthMode = 'passthrough' | 'jwt' | 'open';

/** The token the embedded simulator is read with in `open` mode when CLEARTAX_AUTH_TOKEN is unset. */
export const SIMULATOR_DEMO_TOKEN = 'simulator-demo-token';

export interface JwtConfig {
  /** Exactly one key source. */
  key: { jwksUrl: string } | { publicKeyPem: string } | { secret: string };
  /** AUTH_JWT_ALGORITHMS. @default by key type: RS256 (RSA), ES256 (EC), HS256 (secret); RS256 and ES256 for a JWKS */
  algorithms: string[] | undefined;
  /** AUTH_JWT_ISSUER: checked when set. @default undefined */
  issuer: string | undefined;
  /** AUTH_JWT_AUDIENCE: checked when set. @default undefined */
  audience: string | undefined;
  /** AUTH_ENTITIES_CLAIM: the claim listing the taxable entity ids a caller may read, or "*". @default 'taxable_entity_ids' */
  entitiesClaim: string;
  /** AUTH_JWKS_COOLDOWN_MS: least time between two JWKS fetches, whether the last one worked or not. @default 2000 */
  jwksCooldownMs: number;
  /** AUTH_JWKS_TIMEOUT_MS: one JWKS fetch at most; past it the key source counts as down. @default 2000 */
  jwksTimeoutMs: number;
  /** AUTH_JWKS_CACHE_MAX_AGE_MS: age after which the cached key set is refreshed (cached keys keep working while the JWKS is down). @default 600000 */
  jwksCacheMaxAgeMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { message: 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { message: `must be at least ${min}` })
        .max(max, { message: `must be at most ${max}` }),
    );

/** An absolute URL with one of the given protocols. */
const urlWith = (protocols: string[], message: string) =>
  z
    .string()
    .trim()
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      { message },
    );

const httpUrl = urlWith(['http:', 'https:'], 'must be an absolute http(s) URL');
const redisUrl = urlWith(['redis:', 'rediss:'], 'must be a redis:// or rediss:// URL');

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * An origin as browsers send it in `Origin`: scheme and host in lower case, the
 * default port dropped (`https://App.Example:443` is `https://app.example`); undefined
 * for anything that is not a bare http(s) origin (a path, a query, credentials).
 */
export function normaliseOrigin(entry: string): string | undefined {
  if (!/^https?:\/\/[^/\s?#]+\/?$/i.test(entry)) return undefined;
  try {
    const url = new URL(entry);
    return url.username || url.password ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const nonEmpty = z.string().trim().min(1, { message: 'must not be empty' });

/** Each variable: its schema and its default (as the string an operator would type). */
const variables = {
  PORT: [int(0, 65535), '4000'],
  HOST: [nonEmpty, '127.0.0.1'],
  CLEARTAX_BASE_URL: [httpUrl, undefined],
  CLEARTAX_AUTH_TOKEN: [nonEmpty, undefined],
  AUTH_MODE: [z.enum(['passthrough', 'jwt', 'open'], { message: 'must be passthrough, jwt or open' }), undefined],
  AUTH_JWKS_URL: [httpUrl, undefined],
  AUTH_JWT_PUBLIC_KEY: [
    z
      .string()
      .trim()
      .regex(/-----BEGIN PUBLIC KEY-----/, { message: 'must be a PEM public key (-----BEGIN PUBLIC KEY-----)' }),
    undefined,
  ],
  AUTH_JWT_SECRET: [z.string().min(32, { message: 'must be at least 32 characters' }), undefined],
  AUTH_JWT_ALGORITHMS: [
    z
      .string()
      .trim()
      .regex(/^(HS|RS|ES|PS)(256|384|512)(,\s*(HS|RS|ES|PS)(256|384|512))*$|^EdDSA$/, {
        message: 'must list JWS algorithms, e.g. RS256,ES256',
      }),
    undefined,
  ],
  AUTH_JWT_ISSUER: [nonEmpty, undefined],
  AUTH_JWT_AUDIENCE: [nonEmpty, undefined],
  AUTH_ENTITIES_CLAIM: [nonEmpty, 'taxable_entity_ids'],
  AUTH_JWKS_COOLDOWN_MS: [int(0), '2000'],
  AUTH_JWKS_TIMEOUT_MS: [int(1), '2000'],
  AUTH_JWKS_CACHE_MAX_AGE_MS: [int(1), '600000'],
  CORS_ORIGINS: [
    z
      .string()
      .trim()
      .transform((value, ctx): string[] | '*' => {
        if (value === '*') return '*';
        const origins: string[] = [];
        for (const entry of value.split(',').map((o) => o.trim())) {
          const origin = normaliseOrigin(entry);
          if (origin === undefined) {
            ctx.addIssue({
              code: 'custom',
              message: `must be * or comma-separated origins like https://app.example.com; ${JSON.stringify(entry)} is not one`,
            });
            return z.NEVER;
          }
          origins.push(origin);
        }
        return origins;
      }),
    undefined,
  ],
  TRUST_PROXY: [
    z
      .string()
      .trim()
      .transform((value, ctx): TrustProxy => {
        const lower = value.toLowerCase();
        if (['false', '0', 'no'].includes(lower)) return false;
        if (['true', 'yes'].includes(lower)) return 1;
        if (/^\d+$/.test(value)) return Number(value);
        const list = value.split(',').map((entry) => entry.trim());
        try {
          proxyaddr.compile(list);
        } catch {
          ctx.addIssue({
            code: 'custom',
            message: 'must be true, false, a number of proxy hops, or comma-separated proxy addresses/CIDRs',
          });
          return z.NEVER;
        }
        return list;
      }),
    'false',
  ],
  ALLOWED_HOSTS: [
    z
      .string()
      .trim()
      .transform((value): string[] | '*' =>
        value === '*'
          ? '*'
          : value
              .split(',')
              .map((host) => host.trim().toLowerCase())
              .filter(Boolean),
      ),
    undefined,
  ],
  RATE_LIMIT_PER_MINUTE: [int(0), '1200'],
  RATE_LIMIT_PER_ADDRESS_PER_MINUTE: [int(0), undefined],
  MAX_QUERY_DEPTH: [int(2, 1000), '15'],
  MAX_ALIASES: [int(0, 10_000), '30'],
  MAX_OPERATION_IDS: [int(1, 100_000), '200'],
  POLL_INTERVAL_MS: [int(1), '2000'],
  POLL_MAX_INTERVAL_MS: [int(1), '30000'],
  STALE_AFTER_MS: [int(1), '30000'],
  WEB_APP_ENABLED: [bool, 'true'],
  UPSTREAM_TIMEOUT_MS: [int(1), '5000'],
  UPSTREAM_MAX_CONCURRENCY: [int(1, 10_000), '32'],
  UPSTREAM_RETRIES: [int(0, 10), '2'],
  UPSTREAM_RETRY_BASE_MS: [int(0), '100'],
  UPSTREAM_MAX_RETRY_AFTER_MS: [int(0), '2000'],
  MAX_ACTIVITY_IDS: [int(1, 10_000), '100'],
  MAX_SUBSCRIPTIONS_PER_CONNECTION: [int(1, 100_000), '100'],
  TERMINAL_CACHE_SIZE: [int(0), '10000'],
  TERMINAL_CACHE_TTL_MS: [int(1), '3600000'],
  REDIS_URL: [redisUrl, undefined],
  ACCESS_LOG: [bool, 'true'],
  LOG_LEVEL: [z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'],
  NODE_ENV: [z.string().trim(), undefined],
  SANDBOX_ENABLED: [bool, undefined],
  INTROSPECTION_ENABLED: [bool, undefined],
  MAX_BODY_BYTES: [int(1024, 100 * 1024 * 1024), '102400'],
  MAX_QUERY_TOKENS: [int(100, 1_000_000), '2000'],
  MAX_CONNECTIONS: [int(1, 1_000_000), '10000'],
  MAX_PENDING_DOCUMENTS: [int(1, 100_000), '20'],
  MAX_NEW_TOKENS_PER_ADDRESS: [int(1, 1_000_000), '50'],
  MAX_CONNECTIONS_PER_ADDRESS: [int(1, 1_000_000), '1000'],
  WS_IDLE_TIMEOUT_MS: [int(1), '60000'],
  HTTP_STREAM_HEARTBEAT_MS: [int(10, 3_600_000), '5000'],
  FEDERATION_SUBGRAPH: [bool, 'false'],
  TRUSTED_DOCUMENTS: [z.string().trim().min(1, { message: 'must be a file path' }), undefined],
  OTEL_EXPORTER_OTLP_ENDPOINT: [httpUrl, undefined],
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: [httpUrl, undefined],
  OTEL_TRACES_EXPORTER: [z.string().trim().toLowerCase(), undefined],
  MAX_STREAMS: [int(1, 1_000_000), '10000'],
  MAX_FRAGMENTS: [int(0, 10_000), '50'],
  WS_MAX_MESSAGES_PER_SECOND: [int(1, 1_000_000), '100'],
  UPSTREAM_MAX_BODY_BYTES: [int(1024, 100 * 1024 * 1024), '65536'],
  TERMINAL_CACHE_MAX_BYTES: [int(1024), '16777216'],
  REQUEST_DEADLINE_MS: [int(1), '10000'],
  SHUTDOWN_GRACE_MS: [int(0), '10000'],
  SHUTDOWN_NOTICE_MS: [int(0), '2000'],
  METRICS_PORT: [int(0, 65535), undefined],
  METRICS_HOST: [nonEmpty, '127.0.0.1'],
  SIMULATOR_STEP_MS: [int(1), '3000'],
  SIMULATOR_PORT: [int(0, 65535), '41234'],
} as const satisfies Record<string, readonly [z.ZodType, string | undefined]>;

/** Never echoed back, even in a start-up error. */
const SECRET_VARIABLES = new Set(['CLEARTAX_AUTH_TOKEN', 'REDIS_URL', 'AUTH_JWT_SECRET', 'AUTH_JWT_PUBLIC_KEY']);

type Variables = typeof variables;
type Parsed = {
  [K in keyof Variables]: z.output<Variables[K][0]> | (Variables[K][1] extends undefined ? undefined : never);
};

/**
 * Reads and validates the environment. Pure: pass any record (tests pass literals).
 * Throws one `ConfigError` whose message names the first offending variable, e.g.
 * `POLL_INTERVAL_MS must be a whole number, got "abc"`. Empty strings count as unset.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed: Record<string, unknown> = {};
  for (const [name, [schema, fallback]] of Object.entries(variables) as [
    string,
    readonly [z.ZodType, string | undefined],
  ][]) {
    const raw = env[name] === undefined || env[name] === '' ? fallback : env[name];
    if (raw === undefined) {
      parsed[name] = undefined;
      continue;
    }
    const result = schema.safeParse(raw);
    if (!result.success) {
      const reason = result.error.issues[0]?.message ?? 'is invalid';
      // Never echo secrets back, even in a start-up error.
      const shown = SECRET_VARIABLES.has(name) ? '' : `, got ${JSON.stringify(raw)}`;
      throw new ConfigError(`${name} ${reason}${shown}`);
    }
    parsed[name] = result.data;
  }
  const p = parsed as Parsed;
  if (p.POLL_MAX_INTERVAL_MS < p.POLL_INTERVAL_MS) {
    throw new ConfigError(
      `POLL_MAX_INTERVAL_MS must be at least POLL_INTERVAL_MS (${p.POLL_INTERVAL_MS}), got ${p.POLL_MAX_INTERVAL_MS}`,
    );
  }
  const isProduction = p.NODE_ENV === 'production';
  if (isProduction && p.CLEARTAX_BASE_URL === undefined) {
    throw new ConfigError(
      'CLEARTAX_BASE_URL must be set when NODE_ENV=production: the embedded simulator serves simulated data',
    );
  }
  const authMode: AuthMode = p.AUTH_MODE ?? (p.CLEARTAX_BASE_URL === undefined ? 'open' : 'passthrough');
  const keySources = [p.AUTH_JWKS_URL, p.AUTH_JWT_PUBLIC_KEY, p.AUTH_JWT_SECRET].filter((v) => v !== undefined).length;
  let jwt: JwtConfig | undefined;
  if (authMode === 'jwt') {
    if (keySources !== 1) {
      throw new ConfigError(
        `AUTH_MODE=jwt needs exactly one of AUTH_JWKS_URL, AUTH_JWT_PUBLIC_KEY, AUTH_JWT_SECRET, got ${keySources}`,
      );
    }
    jwt = {
      key: p.AUTH_JWKS_URL
        ? { jwksUrl: p.AUTH_JWKS_URL }
        : p.AUTH_JWT_PUBLIC_KEY
          ? { publicKeyPem: p.AUTH_JWT_PUBLIC_KEY }
          : { secret: p.AUTH_JWT_SECRET! },
      algorithms: p.AUTH_JWT_ALGORITHMS?.split(',').map((a) => a.trim()),
      issuer: p.AUTH_JWT_ISSUER,
      audience: p.AUTH_JWT_AUDIENCE,
      entitiesClaim: p.AUTH_ENTITIES_CLAIM,
      jwksCooldownMs: p.AUTH_JWKS_COOLDOWN_MS,
      jwksTimeoutMs: p.AUTH_JWKS_TIMEOUT_MS,
      jwksCacheMaxAgeMs: p.AUTH_JWKS_CACHE_MAX_AGE_MS,
    };
  } else if (keySources > 0) {
    throw new ConfigError(
      `AUTH_JWKS_URL, AUTH_JWT_PUBLIC_KEY and AUTH_JWT_SECRET need AUTH_MODE=jwt, got AUTH_MODE=${authMode}`,
    );
  }
  let cleartaxAuthToken = p.CLEARTAX_AUTH_TOKEN;
  if (authMode !== 'passthrough' && cleartaxAuthToken === undefined) {
    if (p.CLEARTAX_BASE_URL !== undefined)
      throw new ConfigError(
        `CLEARTAX_AUTH_TOKEN must be set with AUTH_MODE=${authMode}: every caller reads with the server's token`,
      );
    cleartaxAuthToken = SIMULATOR_DEMO_TOKEN;
  }
  return {
    port: p.PORT,
    host: p.HOST,
    cleartaxBaseUrl: p.CLEARTAX_BASE_URL,
    cleartaxAuthToken,
    authMode,
    jwt,
    corsOrigins: p.CORS_ORIGINS ?? [],
    trustProxy: p.TRUST_PROXY,
    // Bound to loopback, only loopback names: a DNS-rebound name cannot pass the same-origin check.
    allowedHosts: p.ALLOWED_HOSTS ?? (isLoopback(p.HOST) ? ['localhost', '127.0.0.1', '[::1]'] : '*'),
    rateLimitPerMinute: p.RATE_LIMIT_PER_MINUTE,
    rateLimitPerAddressPerMinute: p.RATE_LIMIT_PER_ADDRESS_PER_MINUTE ?? 10 * p.RATE_LIMIT_PER_MINUTE,
    maxQueryDepth: p.MAX_QUERY_DEPTH,
    maxAliases: p.MAX_ALIASES,
    maxOperationIds: p.MAX_OPERATION_IDS,
    pollIntervalMs: p.POLL_INTERVAL_MS,
    pollMaxIntervalMs: p.POLL_MAX_INTERVAL_MS,
    staleAfterMs: p.STALE_AFTER_MS,
    webAppEnabled: p.WEB_APP_ENABLED,
    upstreamTimeoutMs: p.UPSTREAM_TIMEOUT_MS,
    upstreamMaxConcurrency: p.UPSTREAM_MAX_CONCURRENCY,
    upstreamRetries: p.UPSTREAM_RETRIES,
    upstreamRetryBaseMs: p.UPSTREAM_RETRY_BASE_MS,
    upstreamMaxRetryAfterMs: p.UPSTREAM_MAX_RETRY_AFTER_MS,
    maxActivityIds: p.MAX_ACTIVITY_IDS,
    maxSubscriptionsPerConnection: p.MAX_SUBSCRIPTIONS_PER_CONNECTION,
    terminalCacheSize: p.TERMINAL_CACHE_SIZE,
    terminalCacheTtlMs: p.TERMINAL_CACHE_TTL_MS,
    redisUrl: p.REDIS_URL,
    accessLog: p.ACCESS_LOG,
    logLevel: p.LOG_LEVEL,
    isProduction,
    sandboxEnabled: p.SANDBOX_ENABLED ?? !isProduction,
    introspectionEnabled: p.INTROSPECTION_ENABLED ?? !isProduction,
    maxBodyBytes: p.MAX_BODY_BYTES,
    maxQueryTokens: p.MAX_QUERY_TOKENS,
    maxConnections: p.MAX_CONNECTIONS,
    maxPendingDocuments: p.MAX_PENDING_DOCUMENTS,
    maxNewTokensPerAddress: p.MAX_NEW_TOKENS_PER_ADDRESS,
    maxConnectionsPerAddress: p.MAX_CONNECTIONS_PER_ADDRESS,
    wsIdleTimeoutMs: p.WS_IDLE_TIMEOUT_MS,
    httpStreamHeartbeatMs: p.HTTP_STREAM_HEARTBEAT_MS,
    federationSubgraph: p.FEDERATION_SUBGRAPH,
    trustedDocuments: p.TRUSTED_DOCUMENTS,
    tracingEnabled:
      (p.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || p.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined) &&
      p.OTEL_TRACES_EXPORTER?.split(',').every((exporter) => exporter.trim() === 'none') !== true,
    maxStreams: p.MAX_STREAMS,
    maxFragments: p.MAX_FRAGMENTS,
    wsMaxMessagesPerSecond: p.WS_MAX_MESSAGES_PER_SECOND,
    upstreamMaxBodyBytes: p.UPSTREAM_MAX_BODY_BYTES,
    terminalCacheMaxBytes: p.TERMINAL_CACHE_MAX_BYTES,
    requestDeadlineMs: p.REQUEST_DEADLINE_MS,
    shutdownGraceMs: p.SHUTDOWN_GRACE_MS,
    shutdownNoticeMs: Math.min(p.SHUTDOWN_NOTICE_MS, Math.floor(p.SHUTDOWN_GRACE_MS / 2)),
    metricsPort: p.METRICS_PORT,
    metricsHost: p.METRICS_HOST,
    simulatorStepMs: p.SIMULATOR_STEP_MS,
    simulatorPort: p.SIMULATOR_PORT,
  };
}
