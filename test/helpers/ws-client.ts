import { print, type ExecutionResult } from 'graphql';
import { createClient, type Client, type ClientOptions } from 'graphql-ws';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import WebSocket from 'ws';
import { onTestFinished } from 'vitest';
import { TOKEN } from './stack.js';
import type { SubscriptionClient } from './transports.js';

export type WsResult<TData> = ExecutionResult<TData, { code?: string; upstream?: unknown }>;

/** A real graphql-ws client over a real socket, disposed with the test. */
export function connect(httpUrl: string, options: Partial<ClientOptions> = {}): Client {
  const client = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: { authToken: TOKEN },
    ...options,
  });
  onTestFinished(() => client.dispose());
  return client;
}

export interface Recorded<TData> {
  events: WsResult<TData>[];
  /** Resolves on completion; rejects with what the sink's error received. */
  done: Promise<void>;
  readonly isDone: boolean;
  unsubscribe(): void;
}

/** Subscribes and records every event until completion or error. */
export function record<TData, TVars extends Record<string, unknown>>(
  client: Pick<Client, 'subscribe'> | SubscriptionClient,
  document: TypedDocumentNode<TData, TVars>,
  variables: TVars,
): Recorded<TData> {
  const events: WsResult<TData>[] = [];
  let isDone = false;
  let unsubscribe = () => {};
  const done = new Promise<void>((resolve, reject) => {
    unsubscribe = (client as SubscriptionClient).subscribe(
      { query: print(document), variables },
      {
        next: (value) => events.push(value as WsResult<TData>),
        error: (error) => {
          isDone = true;
          reject(error);
        },
        complete: () => {
          isDone = true;
          resolve();
        },
      },
    );
  });
  done.catch(() => undefined);
  return {
    events,
    done,
    get isDone() {
      return isDone;
    },
    unsubscribe: () => unsubscribe(),
  };
}

/** Attempts a WebSocket upgrade with `headers`: 101 when it opened (closed at once), else the HTTP status it was refused with. */
export function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers });
    socket.on('open', () => {
      socket.close();
      resolve(101);
    });
    socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.on('error', () => undefined);
  });
}
