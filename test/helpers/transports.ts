import type { ExecutionResult } from 'graphql';
import { connect as connectWs } from './ws-client.js';

/** What every subscription client of the tests offers: graphql-ws's `Client.subscribe` shape. */
export interface SubscriptionClient {
  subscribe(
    payload: { query: string; variables?: Record<string, unknown> | null },
    sink: { next(value: ExecutionResult<never, never>): void; error(error: unknown): void; complete(): void },
  ): () => void;
  /** Goes away: ends every subscription and the connection (or the streams) under it. */
  dispose(): void | Promise<void>;
}

/** One transport the subscription suite runs over, through that protocol's real client. */
export interface SubscriptionTransport {
  readonly name: string;
  /** A client of the gateway at `httpUrl` (its /graphql URL) with the test token, disposed with the test. */
  connect(httpUrl: string): SubscriptionClient;
}

/** Every transport that serves subscriptions: the subscription suite runs each test over each (`describe.each`). */
export const transports: readonly SubscriptionTransport[] = [{ name: 'graphql-ws', connect: (url) => connectWs(url) }];
