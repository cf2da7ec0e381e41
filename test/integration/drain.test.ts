import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startStack } from '../helpers/stack.js';

/** A GET over `agent` (one kept-alive socket), with its status, Connection header and body. */
function get(agent: Agent, url: string): Promise<{ status: number; connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += String(chunk)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('draining on SIGTERM/stop: visible to a load balancer, gentle to keep-alive clients', () => {
  it('answers /readyz 503 from the first moment, keeps answering on kept-alive sockets during SHUTDOWN_NOTICE_MS with Connection: close, and then stops', async () => {
    const { app } = await startStack({ SHUTDOWN_NOTICE_MS: '600' });
    const readyz = app.url.replace(/\/graphql$/, '/readyz');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = await get(agent, readyz);
    expect(before).toMatchObject({ status: 200, connection: 'keep-alive' });
    // The client's socket is idle and kept alive; the drain starts; the client sends on it at once.
    const stopped = app.stop();
    const during = await get(agent, readyz);
    expect(during.status).toBe(503);
    expect(during.connection).toBe('close');
    expect(JSON.parse(during.body)).toMatchObject({ status: 'unavailable' });
    // A new connection during the notice is still accepted and told the same.
    const fresh = new Agent({ keepAlive: true });
    expect(await get(fresh, readyz)).toMatchObject({ status: 503, connection: 'close' });
    await stopped;
    await expect(get(new Agent(), readyz)).rejects.toThrow(/ECONNREFUSED/);
    agent.destroy();
    fresh.destroy();
  });
});
