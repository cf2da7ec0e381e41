import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app/gateway.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

function appOn(port: number) {
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    AUTH_MODE: 'passthrough',
    SHUTDOWN_NOTICE_MS: '0',
    // Nothing answers there: these tests never read a status.
    CLEARTAX_BASE_URL: 'http://127.0.0.1:9',
  });
  return createApp({ ...config, cleartaxBaseUrl: config.cleartaxBaseUrl! }, { logger: createLogger('silent') });
}

describe('the gateway lifecycle', () => {
  it('stop() before start(), then start(), then stop(): nothing is left listening', async () => {
    const port = await freePort();
    const app = appOn(port);
    await app.stop();
    await expect(app.start()).rejects.toThrow(/cannot start/);
    await app.stop();
    expect(app.phase).toBe('stopped');
    expect(await answers(`http://127.0.0.1:${port}/healthz`)).toBe(false);
  });

  it('serves between start() and stop(), and stop() during start() leaves nothing listening', async () => {
    const port = await freePort();
    const app = appOn(port);
    await app.start();
    expect(app.phase).toBe('serving');
    expect(await answers(`http://127.0.0.1:${port}/healthz`)).toBe(true);
    await app.stop();
    expect(await answers(`http://127.0.0.1:${port}/healthz`)).toBe(false);

    const second = appOn(await freePort());
    const starting = second.start();
    const stopping = second.stop();
    await Promise.all([starting, stopping]);
    expect(second.phase).toBe('stopped');
    expect(await answers(second.url.replace(/\/graphql$/, '/healthz'))).toBe(false);
  });
});
