import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('applies the contract defaults', () => {
    expect(loadConfig({})).toMatchObject({
      port: 4000,
      host: '127.0.0.1',
      cleartaxBaseUrl: undefined,
      cleartaxAuthToken: undefined,
      pollIntervalMs: 2000,
      pollMaxIntervalMs: 30000,
      upstreamTimeoutMs: 5000,
      upstreamMaxConcurrency: 32,
      maxActivityIds: 100,
      redisUrl: undefined,
      logLevel: 'info',
      sandboxEnabled: true,
    });
  });

  it('reads set values and treats empty strings as unset', () => {
    const config = loadConfig({
      PORT: '8080',
      CLEARTAX_BASE_URL: 'https://ewb.cleartax.in/api',
      POLL_INTERVAL_MS: ' 250 ',
      LOG_LEVEL: 'debug',
      SANDBOX_ENABLED: 'false',
      CLEARTAX_AUTH_TOKEN: '',
    });
    expect(config).toMatchObject({
      port: 8080,
      cleartaxBaseUrl: 'https://ewb.cleartax.in/api',
      pollIntervalMs: 250,
      logLevel: 'debug',
      sandboxEnabled: false,
      cleartaxAuthToken: undefined,
    });
  });

  it.each([
    [{ POLL_INTERVAL_MS: 'abc' }, 'POLL_INTERVAL_MS must be a whole number, got "abc"'],
    [{ UPSTREAM_TIMEOUT_MS: '0' }, 'UPSTREAM_TIMEOUT_MS must be at least 1, got "0"'],
    [{ PORT: '70000' }, 'PORT must be at most 65535, got "70000"'],
    [{ CLEARTAX_BASE_URL: 'ewb.cleartax.in/api' }, 'CLEARTAX_BASE_URL must be an absolute http(s) URL, got "ewb.cleartax.in/api"'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ POLL_INTERVAL_MS: '5000', POLL_MAX_INTERVAL_MS: '1000' }, 'POLL_MAX_INTERVAL_MS must be at least POLL_INTERVAL_MS (5000), got 1000'],
  ])('stops on %j with one message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never echoes a secret in its error', () => {
    expect(() => loadConfig({ REDIS_URL: 'http://user:hunter2@host' })).toThrow(/^REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL$/);
  });
});
