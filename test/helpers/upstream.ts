import { createLogger } from '../../src/logger.js';
import {
  createClearTaxClient,
  type ClearTaxClient,
  type ClearTaxClientOptions,
} from '../../src/upstream/cleartax-client.js';
import {
  createStatusSource,
  type StatusSource,
  type StatusSourceOptions,
} from '../../src/upload-activity/status-source.js';

/** A ClearTax client for tests that build the read path by hand: quick retries, a 1 s timeout, silent; `options` override. */
export function testClient(baseUrl: string, options: Partial<ClearTaxClientOptions> = {}): ClearTaxClient {
  return createClearTaxClient({
    baseUrl,
    timeoutMs: 1000,
    retries: 2,
    retryBaseMs: 1,
    maxRetryAfterMs: 0,
    maxBodyBytes: 65_536,
    logger: createLogger('silent'),
    ...options,
  });
}

/** A status source over `client` with the gateway's usual cache bounds; `options` override. */
export function testSource(client: ClearTaxClient, options: Partial<StatusSourceOptions> = {}): StatusSource {
  return createStatusSource({
    client,
    maxConcurrency: 32,
    retries: 2,
    terminalCacheSize: 100,
    terminalCacheTtlMs: 60_000,
    terminalCacheMaxBytes: 16 * 1024 * 1024,
    ...options,
  });
}
