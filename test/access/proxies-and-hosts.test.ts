import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startStack, type LogLine } from '../helpers/stack.js';
import { upgradeStatus } from '../helpers/ws-client.js';

/** A GET with headers fetch would not let us set (Host). */
function get(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The client address the gateway settled on, read from the access log's caller id in `open` mode. */
async function addressSeen(env: Record<string, string>, forwardedFor: string): Promise<string> {
  const { raw, logs } = await startStack({ AUTH_MODE: 'open', LOG_LEVEL: 'info', ...env });
  await raw({ query: '{ __typename }' }, { 'x-forwarded-for': forwardedFor });
  await expect.poll(() => logs.some((line: LogLine) => line.access === true)).toBe(true);
  return String(logs.find((line) => line.access === true)!.callerId);
}

describe('TRUST_PROXY: the client address is the one the trusted proxies saw', () => {
  it('never believes the left-most X-Forwarded-For entry a client writes', async () => {
    expect(await addressSeen({ TRUST_PROXY: 'true' }, '6.6.6.6, 203.0.113.5')).toBe('ip:203.0.113.5');
    expect(await addressSeen({ TRUST_PROXY: '2' }, '6.6.6.6, 198.51.100.1, 10.0.0.2')).toBe('ip:198.51.100.1');
    expect(await addressSeen({ TRUST_PROXY: '127.0.0.1,10.0.0.0/8' }, '6.6.6.6, 198.51.100.7, 10.1.2.3')).toBe(
      'ip:198.51.100.7',
    );
    expect(await addressSeen({ TRUST_PROXY: 'false' }, '6.6.6.6')).toBe('ip:127.0.0.1');
  });

  it('refuses a TRUST_PROXY that is neither a boolean, a hop count nor addresses', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'not-an-address' })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUST_PROXY: 'not-an-address' })).toThrow(
      /TRUST_PROXY must be true, false, a number of proxy hops/,
    );
  });
});

describe('CORS_ORIGINS entries are normalised', () => {
  it('matches https://App.Example:443 against the Origin https://app.example, and names a malformed entry at start-up', async () => {
    const { app } = await startStack({ CORS_ORIGINS: 'https://App.Example:443, http://Localhost:8080/' });
    const preflight = await fetch(app.url, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await fetch(app.url, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:8080', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBe('http://localhost:8080');
    expect(() => loadConfig({ CORS_ORIGINS: 'https://ok.example,https://app.example/path' })).toThrow(
      /CORS_ORIGINS .*"https:\/\/app\.example\/path" is not one/,
    );
  });
});

describe('ALLOWED_HOSTS: DNS rebinding', () => {
  it('on loopback, answers only loopback Host names, on HTTP and on the WebSocket upgrade, even with a matching Origin', async () => {
    const { app } = await startStack();
    const port = new URL(app.url).port;
    expect(await get(app.url.replace('/graphql', '/healthz'), { host: `evil.example:${port}` })).toBe(403);
    expect(await upgradeStatus(app.url, { host: `evil.example:${port}`, origin: `http://evil.example:${port}` })).toBe(
      403,
    );
    expect(await get(app.url.replace('/graphql', '/healthz'), { host: `localhost:${port}` })).toBe(200);
    expect(await upgradeStatus(app.url, { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` })).toBe(101);
  });

  it('answers the names ALLOWED_HOSTS lists', async () => {
    const { app } = await startStack({ ALLOWED_HOSTS: 'gateway.example' });
    const port = new URL(app.url).port;
    expect(await get(app.url.replace('/graphql', '/healthz'), { host: `gateway.example:${port}` })).toBe(200);
    expect(await get(app.url.replace('/graphql', '/healthz'), { host: `127.0.0.1:${port}` })).toBe(403);
  });
});
