import { parse, type ExecutionResult } from 'graphql';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { createClient as createSseClient } from 'graphql-sse';
import { onTestFinished } from 'vitest';
import { TOKEN } from './stack.js';
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

/**
 * Apollo Client 4's own `HttpLink`, which subscribes with Apollo's multipart protocol,
 * run through `ApolloLink.execute` so the results arrive as the server sent them
 * (no cache in between).
 */
function connectMultipart(httpUrl: string): SubscriptionClient {
  const link = new HttpLink({ uri: httpUrl, headers: { 'x-cleartax-auth-token': TOKEN } });
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  const open = new Set<{ unsubscribe(): void }>();
  const dispose = () => {
    for (const subscription of open) subscription.unsubscribe();
    open.clear();
  };
  onTestFinished(dispose);
  return {
    subscribe(payload, sink) {
      const subscription = ApolloLink.execute(
        link,
        { query: parse(payload.query), variables: payload.variables ?? {} },
        { client },
      ).subscribe({
        next: (result) => sink.next(result as ExecutionResult<never, never>),
        error: (error: unknown) => {
          open.delete(subscription);
          void refusalOf(error).then((errors) => sink.error(errors));
        },
        complete: () => {
          open.delete(subscription);
          sink.complete();
        },
      });
      open.add(subscription);
      return () => {
        open.delete(subscription);
        subscription.unsubscribe();
      };
    },
    dispose,
  };
}

/** graphql-sse's own client, in distinct (one stream per operation) or single connection mode. */
function connectSse(httpUrl: string, singleConnection: boolean): SubscriptionClient {
  const client = createSseClient({
    url: `${httpUrl}/stream`,
    // A function: graphql-sse's single connection mode writes its stream token into a headers object it is
    // given, and a client that reconnects after its lazy close would then reserve again with the old token.
    headers: () => ({ 'x-cleartax-auth-token': TOKEN }),
    singleConnection,
    retryAttempts: 0,
  });
  onTestFinished(() => client.dispose());
  return {
    subscribe: (payload, sink) =>
      client.subscribe(
        { query: payload.query, variables: payload.variables ?? {} },
        {
          next: (value) => sink.next(value as ExecutionResult<never, never>),
          error: (error) => void refusalOf(error).then((errors) => sink.error(errors)),
          complete: () => sink.complete(),
        },
      ),
    dispose: () => client.dispose(),
  };
}

/**
 * A refusal before a stream starts is an ordinary JSON response with its 4xx: the
 * clients report it as a failed response, whose body's `errors` are what graphql-ws
 * reports as an `error` message. So the sink gets those, as the suite expects.
 */
async function refusalOf(error: unknown): Promise<unknown> {
  const bodyText = (error as { bodyText?: unknown }).bodyText;
  const response = (error as { response?: unknown }).response;
  const text =
    typeof bodyText === 'string' ? bodyText : response instanceof Response ? await response.text() : undefined;
  if (text === undefined) return error;
  try {
    return (JSON.parse(text) as { errors?: unknown }).errors ?? error;
  } catch {
    return error;
  }
}

/** Every transport that serves subscriptions: the subscription suite runs each test over each (`describe.each`). */
export const transports: readonly SubscriptionTransport[] = [
  { name: 'graphql-ws', connect: (url) => connectWs(url) },
  { name: 'Apollo multipart (HttpLink)', connect: connectMultipart },
  { name: 'graphql-sse', connect: (url) => connectSse(url, false) },
];

/**
 * graphql-sse's single connection mode (a reserved stream, operations POSTed to it).
 * Not in `transports`: its client aborts a refused operation's response before the
 * body can be read, so a refusal's errors cannot be compared; test/integration/
 * live-over-http.test.ts runs it through a whole lifecycle and a disconnect instead.
 */
export const sseSingleConnection: SubscriptionTransport = {
  name: 'graphql-sse (single connection)',
  connect: (url) => connectSse(url, true),
};
