import { describe, expect, it } from 'vitest';
import { print } from 'graphql';
import WebSocket from 'ws';
import { UploadActivityStatusChangedDocument } from '../../schema/generated/graphql.js';
import { ENTITY, TOKEN, startStack } from '../helpers/stack.js';

/** A raw graphql-transport-ws socket, so the test decides exactly which frames go out and when. */
async function openSocket(httpUrl: string) {
  const socket = new WebSocket(httpUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const frames: { type: string; id?: string }[] = [];
  let closed: { code: number; reason: string } | undefined;
  socket.on('message', (data) => frames.push(JSON.parse(String(data)) as { type: string; id?: string }));
  socket.on('close', (code, reason) => (closed = { code, reason: String(reason) }));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    frames,
    get closed() {
      return closed;
    },
  };
}

describe('WebSocket message rate: a token bucket whose burst admits a full set of subscriptions', () => {
  it('serves connection_init plus MAX_SUBSCRIPTIONS_PER_CONNECTION subscribes and a few pings within one second, as a board does on load', async () => {
    const { app, simulator } = await startStack();
    const ids = Array.from(
      { length: 100 },
      () =>
        simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 3, isAuto: false })
          .activityId,
    );
    const client = await openSocket(app.url);
    // As graphql-ws clients and Apollo Client do on load: connection_init, and once it is
    // acknowledged, every subscribe in one synchronous burst, within the same second.
    client.socket.send(JSON.stringify({ type: 'connection_init', payload: { authToken: TOKEN } }));
    await expect.poll(() => client.frames.some((f) => f.type === 'connection_ack')).toBe(true);
    ids.forEach((activityId, i) =>
      client.socket.send(
        JSON.stringify({
          id: String(i),
          type: 'subscribe',
          payload: {
            query: print(UploadActivityStatusChangedDocument),
            variables: { taxableEntityId: ENTITY, activityId },
          },
        }),
      ),
    );
    // A client's keep-alive pings may fall into the same second.
    for (let i = 0; i < 5; i++) client.socket.send(JSON.stringify({ type: 'ping' }));
    await expect
      .poll(() => new Set(client.frames.filter((f) => f.type === 'next').map((f) => f.id)).size, { timeout: 15_000 })
      .toBe(100);
    expect(client.frames.filter((f) => f.type === 'error')).toEqual([]);
    expect(client.closed).toBeUndefined();
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
    client.socket.close();
  });

  it('still closes a sustained flood (300 pings a second) with 1008 "Too many messages"', async () => {
    const { app } = await startStack();
    const client = await openSocket(app.url);
    client.socket.send(JSON.stringify({ type: 'connection_init', payload: { authToken: TOKEN } }));
    // 30 pings every 100 ms, for 2 s at most: 300 a second against a refill of 100.
    for (let tick = 0; tick < 20 && client.closed === undefined; tick++) {
      for (let i = 0; i < 30 && client.socket.readyState === WebSocket.OPEN; i++)
        client.socket.send(JSON.stringify({ type: 'ping' }));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await expect.poll(() => client.closed, { timeout: 5_000 }).toEqual({ code: 1008, reason: 'Too many messages' });
  });
});
