import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';

export type Credentials = { kind: 'none' } | { kind: 'cleartax'; token: string } | { kind: 'jwt'; jwt: string };
/** `idle`: the socket closed normally because nothing is subscribed (every activity finished). */
export type LinkState = 'connecting' | 'connected' | 'idle' | 'disconnected';

/**
 * Apollo Client over the gateway's public API: HTTP for queries, graphql-ws for
 * subscriptions. Credentials are read at each request and each (re)connection, so a
 * refreshed JWT is sent on reconnect. The socket reconnects forever with backoff,
 * and graphql-ws resubscribes what was active.
 */
export function createApollo(credentials: () => Credentials, onLinkState: (state: LinkState) => void): ApolloClient {
  const endpoint = new URL('/graphql', window.location.href);
  const headers = (): Record<string, string> => {
    const c = credentials();
    if (c.kind === 'cleartax') return { 'X-Cleartax-Auth-Token': c.token };
    if (c.kind === 'jwt') return { authorization: `Bearer ${c.jwt}` };
    return {};
  };
  const http = new SetContextLink((prev) => ({ headers: { ...prev.headers, ...headers() } })).concat(new HttpLink({ uri: endpoint.href }));
  const wsClient = createClient({
    url: endpoint.href.replace(/^http/, 'ws'),
    connectionParams: () => {
      const c = credentials();
      if (c.kind === 'cleartax') return { authToken: c.token };
      if (c.kind === 'jwt') return { authorization: `Bearer ${c.jwt}` };
      return {};
    },
    lazy: true,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(3000, 300 * 2 ** retries))),
    on: {
      connecting: () => onLinkState('connecting'),
      connected: () => onLinkState('connected'),
      closed: (event) => onLinkState((event as { code?: number }).code === 1000 ? 'idle' : 'disconnected'),
    },
  });
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    },
    new GraphQLWsLink(wsClient),
    http,
  );
  // UploadActivity.id is global: a subscription event updates the query's row in place.
  return new ApolloClient({ link, cache: new InMemoryCache() });
}
