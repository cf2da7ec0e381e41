import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, type StoreObject } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import { map } from 'rxjs';
import { UploadActivityFieldsFragmentDoc } from '../../schema/generated/graphql';

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
  const http = new SetContextLink((prev) => ({ headers: { ...prev.headers, ...headers() } })).concat(
    new HttpLink({ uri: endpoint.href }),
  );
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
  const cache = new InMemoryCache();
  return new ApolloClient({ link: keepNewerReads(cache).concat(link), cache });
}

/**
 * Query answers and subscription events write the same normalised activity, in the
 * order they arrive, and they arrive on two channels (HTTP, WebSocket). This link makes
 * the newer read win instead (by `fetchedAt`; on a tie, the later arrival): an activity
 * in a result that is older than the one in the cache is replaced by the cached one
 * before the result is written, so a query answer read before an event already shown,
 * but arriving after it, never takes a row back (the subscription would not correct it:
 * it sends changes only). A stale event carries the last state its poller knows, which
 * may be older than a query's read: the newer state stays, marked stale.
 */
function keepNewerReads(cache: InMemoryCache): ApolloLink {
  function newer(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(newer);
    if (value === null || typeof value !== 'object') return value;
    const incoming = value as Record<string, unknown>;
    if (incoming.__typename !== 'UploadActivity' || typeof incoming.fetchedAt !== 'string') {
      return Object.fromEntries(Object.entries(incoming).map(([field, child]) => [field, newer(child)]));
    }
    const id = cache.identify(incoming as StoreObject);
    const known = id ? cache.readFragment({ fragment: UploadActivityFieldsFragmentDoc, id }) : null;
    if (!known || !(Date.parse(known.fetchedAt) > Date.parse(incoming.fetchedAt))) return incoming;
    const kept: Record<string, unknown> = { ...incoming };
    for (const field of Object.keys(incoming)) if (field in known) kept[field] = known[field as keyof typeof known];
    if ('isStale' in incoming) kept.isStale = known.isStale || incoming.isStale === true;
    return kept;
  }
  return new ApolloLink((operation, forward) =>
    forward(operation).pipe(
      map((result) => (result.data ? { ...result, data: newer(result.data) as typeof result.data } : result)),
    ),
  );
}
