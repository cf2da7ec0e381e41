import { describe, expect, it } from 'vitest';
import { print } from 'graphql';
import WebSocket from 'ws';
import { UploadActivityStatusChangedDocument } from '../../schema/generated/graphql.js';
import { HS_SECRET, hsKey, sign } from '../helpers/jwt.js';
import { ENTITY, TOKEN, startStack } from '../helpers/stack.js';

/** Opens a raw socket; resolves to it once open, or to the HTTP status of a refused upgrade. */
function upgrade(url: string, headers: Record<string, string> = {}): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.on('error', () => undefined);
  });
}

function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
}

function init(socket: WebSocket, payload: Record<string, unknown>): void {
  socket.send(JSON.stringify({ type: 'connection_init', payload }));
}

describe('connections per client address and per caller, and idle sockets', () => {
  it('refuses upgrades past MAX_CONNECTIONS_PER_ADDRESS with 503; another address is unaffected; a slot frees on close', async () => {
    const { app } = await startStack({ MAX_CONNECTIONS_PER_ADDRESS: '3', TRUST_PROXY: 'true' });
    const from = (address: string) => ({ 'x-forwarded-for': address });
    const open = await Promise.all([1, 2, 3].map(() => upgrade(app.url, from('203.0.113.7'))));
    expect(open.every((socket) => socket instanceof WebSocket)).toBe(true);
    expect(await upgrade(app.url, from('203.0.113.7'))).toBe(503);
    const other = await upgrade(app.url, from('198.51.100.9'));
    expect(other).toBeInstanceOf(WebSocket);
    const first = open[0] as WebSocket;
    first.close();
    await closed(first);
    await expect
      .poll(async () => {
        const again = await upgrade(app.url, from('203.0.113.7'));
        if (again instanceof WebSocket) again.close();
        return again instanceof WebSocket;
      })
      .toBe(true);
    for (const socket of [...open, other]) if (socket instanceof WebSocket) socket.close();
  });

  it('in jwt mode caps one caller across addresses: past the cap, connection_init is closed 4429', async () => {
    const { app } = await startStack({
      AUTH_MODE: 'jwt',
      CLEARTAX_AUTH_TOKEN: 'server',
      AUTH_JWT_SECRET: HS_SECRET,
      MAX_CONNECTIONS_PER_ADDRESS: '2',
      TRUST_PROXY: 'true',
    });
    const jwt = await sign({ sub: 'one-user', taxable_entity_ids: [ENTITY] }, hsKey(), 'HS256');
    const sockets: WebSocket[] = [];
    const results: string[] = [];
    for (const address of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) {
      const socket = (await upgrade(app.url, { 'x-forwarded-for': address })) as WebSocket;
      sockets.push(socket);
      const answer = new Promise<string>((resolve) => {
        socket.once('message', (data) => resolve((JSON.parse(String(data)) as { type: string }).type));
        socket.once('close', (code, reason) => resolve(`${code} ${String(reason)}`));
      });
      init(socket, { authorization: `Bearer ${jwt}` });
      results.push(await answer);
    }
    expect(results).toEqual(['connection_ack', 'connection_ack', '4429 Too many connections for this caller']);
    for (const socket of sockets) socket.close();
  });

  it('closes a socket that never subscribes after WS_IDLE_TIMEOUT_MS, and keeps one that does', async () => {
    const { app, simulator } = await startStack({ WS_IDLE_TIMEOUT_MS: '300' });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', isAuto: false });
    const idle = (await upgrade(app.url)) as WebSocket;
    const busy = (await upgrade(app.url)) as WebSocket;
    const idleClosed = closed(idle);
    let busyClosed = false;
    busy.once('close', () => (busyClosed = true));
    init(idle, { authToken: TOKEN });
    init(busy, { authToken: TOKEN });
    busy.once('message', () =>
      busy.send(
        JSON.stringify({
          id: '1',
          type: 'subscribe',
          payload: {
            query: print(UploadActivityStatusChangedDocument),
            variables: { taxableEntityId: ENTITY, activityId: a.activityId },
          },
        }),
      ),
    );
    expect(await idleClosed).toEqual({ code: 1000, reason: 'Idle: no subscription' });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(busyClosed).toBe(false);
    busy.close();
  });
});
