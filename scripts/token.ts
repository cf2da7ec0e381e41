import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { ConfigError, loadConfig } from '../src/config.js';

/**
 * `npm run -s token -- <entity-id>[,<entity-id>…] | '*' [--sub <subject>] [--ttl <duration>]`
 *
 * Mints a short-lived test JWT for a gateway in `jwt` mode with a shared secret
 * (`AUTH_JWT_SECRET`), and prints it on stdout (what it contains goes to stderr, so
 * `JWT=$(npm run -s token -- …)` captures the token alone). It reads the same
 * variables as the gateway, through the gateway's own validation (src/config.ts):
 * AUTH_JWT_SECRET (at least 32 characters), AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE
 * (set as claims when set), AUTH_ENTITIES_CLAIM (the claim that lists the entities),
 * AUTH_JWT_ALGORITHMS (the first HS algorithm listed; HS256 when unset).
 *
 * For local development and tests only: in production, JWTs come from your identity
 * provider, and the gateway should verify them with AUTH_JWKS_URL.
 */

const USAGE = `usage: npm run -s token -- <entity-id>[,<entity-id>...] | '*' [--sub <subject>] [--ttl <duration>]

  <entity-id>   taxable entity id(s) (UUIDs) the token may read, or '*' for every entity
  --sub         the token's subject: the caller id for rate limits and logs (default: local-dev)
  --ttl         lifetime: seconds, or a number with s, m or h (default: 1h, at most 24h)

Reads AUTH_JWT_SECRET (required, at least 32 characters), AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE,
AUTH_ENTITIES_CLAIM and AUTH_JWT_ALGORITHMS from the environment, as the gateway does.`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_TTL_SECONDS = 24 * 3600;

class UsageError extends Error {}

function ttlSeconds(text: string): number {
  const match = /^(\d+)\s*(s|m|h)?$/.exec(text.trim());
  if (!match)
    throw new UsageError(`--ttl must be seconds or a number with s, m or h (e.g. 15m), got ${JSON.stringify(text)}`);
  const seconds = Number(match[1]) * { s: 1, m: 60, h: 3600 }[(match[2] ?? 's') as 's' | 'm' | 'h'];
  if (seconds < 1 || seconds > MAX_TTL_SECONDS)
    throw new UsageError(
      `--ttl must be between 1 s and 24 h (a test token is short-lived), got ${JSON.stringify(text)}`,
    );
  return seconds;
}

function entitiesOf(positionals: string[]): string[] | '*' {
  const ids = positionals
    .flatMap((arg) => arg.split(','))
    .map((id) => id.trim())
    .filter(Boolean);
  if (ids.length === 0) throw new UsageError('name at least one taxable entity id, or *');
  if (ids.includes('*')) {
    if (ids.length > 1) throw new UsageError("'*' already means every entity: give it alone");
    return '*';
  }
  const bad = ids.find((id) => !UUID.test(id));
  if (bad !== undefined) throw new UsageError(`not a taxable entity id (a UUID): ${JSON.stringify(bad)}`);
  return ids;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { sub: { type: 'string' }, ttl: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const entities = entitiesOf(positionals);
  const ttl = ttlSeconds(values.ttl ?? '1h');
  const subject = values.sub ?? 'local-dev';
  if (subject.trim() === '') throw new UsageError('--sub must not be empty');

  const env = process.env;
  if (!env.AUTH_JWT_SECRET) {
    throw new ConfigError(
      'AUTH_JWT_SECRET is not set: this script signs with the secret the gateway verifies with (AUTH_MODE=jwt, AUTH_JWT_SECRET of at least 32 characters). A gateway on AUTH_JWKS_URL or AUTH_JWT_PUBLIC_KEY takes its JWTs from the identity provider.',
    );
  }
  // The gateway's own parsing and checks (the secret's length among them).
  const config = loadConfig({
    AUTH_MODE: 'jwt',
    AUTH_JWT_SECRET: env.AUTH_JWT_SECRET,
    AUTH_JWT_ISSUER: env.AUTH_JWT_ISSUER,
    AUTH_JWT_AUDIENCE: env.AUTH_JWT_AUDIENCE,
    AUTH_ENTITIES_CLAIM: env.AUTH_ENTITIES_CLAIM,
    AUTH_JWT_ALGORITHMS: env.AUTH_JWT_ALGORITHMS,
  });
  const jwt = config.jwt!;
  const algorithm = jwt.algorithms === undefined ? 'HS256' : jwt.algorithms.find((a) => a.startsWith('HS'));
  if (algorithm === undefined)
    throw new ConfigError(
      `AUTH_JWT_ALGORITHMS lists no HS algorithm (${jwt.algorithms!.join(',')}): a token signed with AUTH_JWT_SECRET would be refused`,
    );

  const now = Math.floor(Date.now() / 1000);
  let token = new SignJWT({ [jwt.entitiesClaim]: entities })
    .setProtectedHeader({ alg: algorithm, typ: 'JWT' })
    .setSubject(subject)
    .setIssuedAt(now)
    .setExpirationTime(now + ttl);
  if (jwt.issuer) token = token.setIssuer(jwt.issuer);
  if (jwt.audience) token = token.setAudience(jwt.audience);
  const signed = await token.sign(new TextEncoder().encode((jwt.key as { secret: string }).secret));

  process.stdout.write(`${signed}\n`);
  console.error(
    `${algorithm} JWT: sub=${subject}, ${jwt.entitiesClaim}=${JSON.stringify(entities)}` +
      `${jwt.issuer ? `, iss=${jwt.issuer}` : ''}${jwt.audience ? `, aud=${jwt.audience}` : ''}, expires ${new Date((now + ttl) * 1000).toISOString()}`,
  );
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) console.error(`token: ${error.message}\n\n${USAGE}`);
  else if (error instanceof ConfigError) console.error(`token: ${error.message}`);
  else if (error instanceof Error && 'code' in error && error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
    console.error(`token: ${error.message}\n\n${USAGE}`);
  else console.error('token:', error);
  process.exit(1);
});
