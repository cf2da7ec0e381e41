import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('applies the contract defaults', () => {
    expect(loadConfig({})).toMatchObject({
      port: 4000,
      host: '127.0.0.1',
      cleartaxBaseUrl: undefined,
      // The embedded simulator and no AUTH_MODE: open, with the simulator's demo token.
      authMode: 'open',
      cleartaxAuthToken: 'simulator-demo-token',
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
    [
      { CLEARTAX_BASE_URL: 'ewb.cleartax.in/api' },
      'CLEARTAX_BASE_URL must be an absolute http(s) URL, got "ewb.cleartax.in/api"',
    ],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [
      { POLL_INTERVAL_MS: '5000', POLL_MAX_INTERVAL_MS: '1000' },
      'POLL_MAX_INTERVAL_MS must be at least POLL_INTERVAL_MS (5000), got 1000',
    ],
  ])('stops on %j with one message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('applies the hardening defaults, and production defaults with NODE_ENV=production', () => {
    expect(loadConfig({})).toMatchObject({
      isProduction: false,
      sandboxEnabled: true,
      introspectionEnabled: true,
      maxBodyBytes: 102400,
      maxQueryTokens: 2000,
      maxConnections: 10000,
      wsMaxMessagesPerSecond: 100,
      upstreamMaxBodyBytes: 65536,
      requestDeadlineMs: 10000,
      shutdownGraceMs: 10000,
      metricsPort: undefined,
      metricsHost: '127.0.0.1',
    });
    const production = { NODE_ENV: 'production', CLEARTAX_BASE_URL: 'https://ewb.cleartax.in/api' };
    expect(loadConfig(production)).toMatchObject({
      isProduction: true,
      sandboxEnabled: false,
      introspectionEnabled: false,
    });
    expect(loadConfig({ ...production, SANDBOX_ENABLED: 'true', INTROSPECTION_ENABLED: '1' })).toMatchObject({
      sandboxEnabled: true,
      introspectionEnabled: true,
    });
  });

  it.each([
    [{ MAX_QUERY_TOKENS: '10' }, 'MAX_QUERY_TOKENS must be at least 100, got "10"'],
    [{ METRICS_PORT: 'metrics' }, 'METRICS_PORT must be a whole number, got "metrics"'],
    [{ SHUTDOWN_GRACE_MS: '-1' }, 'SHUTDOWN_GRACE_MS must be a whole number, got "-1"'],
    [{ INTROSPECTION_ENABLED: 'maybe' }, 'INTROSPECTION_ENABLED must be true or false, got "maybe"'],
    [{ NODE_ENV: 'production' }, 'CLEARTAX_BASE_URL must be set when NODE_ENV=production'],
  ])('stops on %j naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never echoes a secret in its error', () => {
    expect(() => loadConfig({ REDIS_URL: 'http://user:hunter2@host' })).toThrow(
      /^REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL$/,
    );
  });
});
