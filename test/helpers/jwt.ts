import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { onTestFinished } from 'vitest';

export const HS_SECRET = 'test-hs256-secret-that-is-long-enough-0123456789';

/** An RSA key pair made at test time, with its kid. */
export async function rsaKey(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, publicKey, privateKey, jwk, pem: await exportSPKI(publicKey) };
}

/** Signs `claims` (exp one hour ahead unless given) with `key` and `alg`. */
export function sign(
  claims: JWTPayload,
  key: CryptoKey | Uint8Array,
  alg: string,
  kid?: string,
  options: { omitExp?: boolean } = {},
): Promise<string> {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg, ...(kid ? { kid } : {}) }).setIssuedAt();
  if (!options.omitExp && claims.exp === undefined) jwt = jwt.setExpirationTime('1h');
  return jwt.sign(key);
}

export const hsKey = () => new TextEncoder().encode(HS_SECRET);

/** How the test JWKS answers: its keys, a 500, never (the request hangs), or a body that is not JSON. */
export type JwksMode = 'ok' | 'error' | 'hang' | 'garbage';

/**
 * A JWKS endpoint on 127.0.0.1 whose keys and behaviour the test may change
 * (`state.mode`: make it answer 500, hang, send garbage, or recover); counts fetches.
 */
export async function startJwks(keys: JWK[]) {
  const state: { keys: JWK[]; fetches: number; mode: JwksMode } = { keys, fetches: 0, mode: 'ok' };
  const server = createServer((_req, res) => {
    state.fetches += 1;
    switch (state.mode) {
      case 'ok':
        return void res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ keys: state.keys }));
      case 'error':
        return void res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
      case 'garbage':
        return void res.writeHead(200, { 'content-type': 'application/json' }).end('<html>not a key set');
      case 'hang':
        return; // no answer: the client's timeout ends it, or the close below
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // hanging requests included
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`, state };
}
