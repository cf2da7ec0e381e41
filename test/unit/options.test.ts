import type { Server } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createJwtAccess } from '../../src/access/jwt.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { nonEmptyString, nonNegativeInt, positiveInt } from '../../src/options.js';
import { createAppPubSub } from '../../src/pubsub.js';
import { createApolloServer } from '../../src/server/http.js';
import { createOperationPreparer, type OperationPreparer } from '../../src/server/operation.js';
import { createWebSocketEndpoint, type WebSocketOptions } from '../../src/server/ws.js';
import { createPollScheduler } from '../../src/upload-activity/poll-scheduler.js';
import { createStatusSource, type StatusSource } from '../../src/upload-activity/status-source.js';
import { createStatusWatcher } from '../../src/upload-activity/status-watcher.js';
import { createClearTaxClient, type ClearTaxClient } from '../../src/upstream/cleartax-client.js';

/** The values the running gateway uses: each factory's numbers come from here, never from a fallback of its own. */
const config = loadConfig({});
const logger = createLogger('silent');
/** Never reached: each factory checks its numbers before it touches any of these. */
const unused = <T>() => ({}) as T;

const pollScheduler = (o: object) =>
  createPollScheduler({ intervalMs: config.pollIntervalMs, maxIntervalMs: config.pollMaxIntervalMs, onDue() {}, ...o });
const statusWatcher = (o: object) =>
  createStatusWatcher({
    source: unused<StatusSource>(),
    pubSub: createAppPubSub(),
    intervalMs: config.pollIntervalMs,
    maxIntervalMs: config.pollMaxIntervalMs,
    staleAfterMs: config.staleAfterMs,
    logger,
    ...o,
  });
const statusSource = (o: object) =>
  createStatusSource({
    client: unused<ClearTaxClient>(),
    maxConcurrency: config.upstreamMaxConcurrency,
    retries: config.upstreamRetries,
    terminalCacheSize: config.terminalCacheSize,
    terminalCacheTtlMs: config.terminalCacheTtlMs,
    terminalCacheMaxBytes: config.terminalCacheMaxBytes,
    ...o,
  });
const clearTaxClient = (o: object) =>
  createClearTaxClient({
    baseUrl: 'http://127.0.0.1:9',
    timeoutMs: config.upstreamTimeoutMs,
    retries: config.upstreamRetries,
    retryBaseMs: config.upstreamRetryBaseMs,
    maxRetryAfterMs: config.upstreamMaxRetryAfterMs,
    maxBodyBytes: config.upstreamMaxBodyBytes,
    logger,
    ...o,
  });
const webSocketEndpoint = (o: object) =>
  createWebSocketEndpoint({
    httpServer: unused<Server>(),
    path: '/graphql',
    logger,
    accessLog: unused<WebSocketOptions<unknown, unknown>['accessLog']>(),
    core: unused<WebSocketOptions<unknown, unknown>['core']>(),
    maxOperationsPerConnection: config.maxSubscriptionsPerConnection,
    maxPayloadBytes: config.maxBodyBytes,
    maxConnections: config.maxConnections,
    maxMessagesPerSecond: config.wsMaxMessagesPerSecond,
    clientAddress: () => '127.0.0.1',
    maxConnectionsPerAddress: config.maxConnectionsPerAddress,
    idleTimeoutMs: config.wsIdleTimeoutMs,
    ...o,
  });
const operationPreparer = (o: object) =>
  createOperationPreparer({
    schema: unused<GraphQLSchema>(),
    maxTokens: config.maxQueryTokens,
    maxPendingDocuments: config.maxPendingDocuments,
    maxFragments: config.maxFragments,
    ...o,
  });
const apolloServer = (o: object) =>
  createApolloServer({
    schema: unused<GraphQLSchema>(),
    httpServer: unused<Server>(),
    prepare: unused<OperationPreparer>(),
    sandboxEnabled: false,
    introspectionEnabled: false,
    drainGraceMs: config.shutdownGraceMs,
    logger,
    ...o,
  });
const jwtAccess = (o: object) =>
  createJwtAccess({
    key: { secret: 'x'.repeat(32) },
    upstreamToken: 'server-token',
    entitiesClaim: 'taxable_entity_ids',
    jwksTimeoutMs: 2000,
    jwksCooldownMs: 2000,
    jwksCacheMaxAgeMs: 600_000,
    logger,
    ...o,
  });

type Kind = 'positive' | 'non-negative';
/** factory, option, what it must be, the unit its message names. */
const checked: [string, (o: object) => unknown, string, Kind, string][] = [
  ['createPollScheduler', pollScheduler, 'intervalMs', 'positive', ' of milliseconds'],
  ['createPollScheduler', pollScheduler, 'maxIntervalMs', 'positive', ' of milliseconds'],
  ['createStatusWatcher', statusWatcher, 'intervalMs', 'positive', ' of milliseconds'],
  ['createStatusWatcher', statusWatcher, 'maxIntervalMs', 'positive', ' of milliseconds'],
  ['createStatusWatcher', statusWatcher, 'staleAfterMs', 'positive', ' of milliseconds'],
  ['createStatusSource', statusSource, 'maxConcurrency', 'positive', ''],
  ['createStatusSource', statusSource, 'retries', 'non-negative', ''],
  ['createStatusSource', statusSource, 'terminalCacheSize', 'non-negative', ''],
  ['createStatusSource', statusSource, 'terminalCacheTtlMs', 'positive', ' of milliseconds'],
  ['createStatusSource', statusSource, 'terminalCacheMaxBytes', 'positive', ' of bytes'],
  ['createClearTaxClient', clearTaxClient, 'timeoutMs', 'positive', ' of milliseconds'],
  ['createClearTaxClient', clearTaxClient, 'retries', 'non-negative', ''],
  ['createClearTaxClient', clearTaxClient, 'retryBaseMs', 'non-negative', ' of milliseconds'],
  ['createClearTaxClient', clearTaxClient, 'maxRetryAfterMs', 'non-negative', ' of milliseconds'],
  ['createClearTaxClient', clearTaxClient, 'maxBodyBytes', 'positive', ' of bytes'],
  ['createWebSocketEndpoint', webSocketEndpoint, 'maxPayloadBytes', 'positive', ' of bytes'],
  ['createWebSocketEndpoint', webSocketEndpoint, 'maxConnections', 'positive', ''],
  ['createWebSocketEndpoint', webSocketEndpoint, 'maxMessagesPerSecond', 'positive', ''],
  ['createWebSocketEndpoint', webSocketEndpoint, 'maxOperationsPerConnection', 'positive', ''],
  ['createWebSocketEndpoint', webSocketEndpoint, 'maxConnectionsPerAddress', 'positive', ''],
  ['createWebSocketEndpoint', webSocketEndpoint, 'idleTimeoutMs', 'positive', ' of milliseconds'],
  ['createOperationPreparer', operationPreparer, 'maxTokens', 'positive', ''],
  ['createOperationPreparer', operationPreparer, 'maxPendingDocuments', 'positive', ''],
  ['createOperationPreparer', operationPreparer, 'maxFragments', 'non-negative', ''],
  ['createApolloServer', apolloServer, 'drainGraceMs', 'non-negative', ' of milliseconds'],
];

/** Bad for every checked option; 0 only where a positive number is required. */
const bad = (kind: Kind) => [...(kind === 'positive' ? [0] : []), -1, NaN, 1.5, undefined];

describe('factory options are checked at the door', () => {
  it.each(checked)('%s refuses a bad %s', (_factory, build, name, kind, unit) => {
    for (const value of bad(kind)) {
      const message = `${name} must be a ${kind} whole number${unit}, got ${String(value)}`;
      expect(() => build({ [name]: value }), `${name}: ${String(value)}`).toThrow(new TypeError(message));
    }
  });

  it('createPollScheduler({ intervalMs: 0 }) throws instead of polling in a tight loop', () => {
    expect(() => pollScheduler({ intervalMs: 0 })).toThrow(
      new TypeError('intervalMs must be a positive whole number of milliseconds, got 0'),
    );
  });

  it('createJwtAccess refuses bad JWKS timings and an empty claim name', async () => {
    await expect(jwtAccess({ jwksTimeoutMs: 0 })).rejects.toThrow(
      new TypeError('jwksTimeoutMs must be a positive whole number of milliseconds, got 0'),
    );
    await expect(jwtAccess({ jwksCooldownMs: -1 })).rejects.toThrow(
      new TypeError('jwksCooldownMs must be a non-negative whole number of milliseconds, got -1'),
    );
    await expect(jwtAccess({ jwksCacheMaxAgeMs: 1.5 })).rejects.toThrow(
      new TypeError('jwksCacheMaxAgeMs must be a positive whole number of milliseconds, got 1.5'),
    );
    await expect(jwtAccess({ entitiesClaim: ' ' })).rejects.toThrow(
      new TypeError('entitiesClaim must be a non-empty string, got " "'),
    );
  });

  it('accepts the config defaults, and 0 where a non-negative number is asked for', async () => {
    pollScheduler({}).stop();
    await statusWatcher({}).stop();
    statusSource({ retries: 0, terminalCacheSize: 0 });
    clearTaxClient({ retries: 0, retryBaseMs: 0, maxRetryAfterMs: 0 });
    await expect(jwtAccess({ jwksCooldownMs: 0 })).resolves.toBeDefined();
  });
});

describe('the checking helpers', () => {
  it('return the value they accept', () => {
    expect(positiveInt('n', 1)).toBe(1);
    expect(nonNegativeInt('n', 0)).toBe(0);
    expect(nonEmptyString('s', 'a')).toBe('a');
  });

  it('say what was expected and what came, whatever came', () => {
    expect(() => positiveInt('limit', '5')).toThrow(new TypeError('limit must be a positive whole number, got "5"'));
    expect(() => positiveInt('limitBytes', Infinity)).toThrow(
      new TypeError('limitBytes must be a positive whole number of bytes, got Infinity'),
    );
    expect(() => nonNegativeInt('waitSeconds', null)).toThrow(
      new TypeError('waitSeconds must be a non-negative whole number of seconds, got null'),
    );
    expect(() => nonEmptyString('claim', 42)).toThrow(new TypeError('claim must be a non-empty string, got 42'));
  });
});
