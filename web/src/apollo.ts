import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, type StoreObject } from '@apollo/client';
import { CombinedProtocolErrors, ServerError } from '@apollo/client/errors';
import { SetContextLink } from '@apollo/client/link/context';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import type { DocumentNode } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { map, Observable, type Observer, type Subscription } from 'rxjs';
import { UploadActivityFieldsFragmentDoc } from '../../schema/generated/graphql';

export type Credentials = { kind: 'none' } | { kind: 'cleartax'; token: string } | { kind: 'jwt'; jwt: string };
/** `idle`: the subscription transport closed normally because nothing is subscribed (every activity finished). */
export type LinkState = 'connecting' | 'connected' | 'idle' | 'disconnected';
/** How subscriptions travel: graphql-ws, or Apollo's multipart subscriptions over HTTP (`HttpLink`). */
export type Transport = 'websocket' | 'http';

/** While on HTTP streaming, how often the board tries the WebSocket again. */
export const WEBSOCKET_RETRY_MS = 30_000;
/**
 * Failed WebSocket connection attempts in a row (closed before the gateway acknowledged
 * it, and not by the gateway's own graphql-ws close codes) after which the board moves
 * to HTTP streaming. Before the socket ever connected, the first failure is enough: a
 * proxy that drops WebSockets drops every one.
 */
const WEBSOCKET_ATTEMPTS = 8;

const backoff = (retries: number) => Math.min(3000, 300 * 2 ** retries);

/**
 * Apollo Client over the gateway's public API: HTTP for queries; subscriptions over
 * graphql-ws first, or over Apollo's multipart HTTP protocol where WebSockets cannot
 * connect (see `LiveLink`). Credentials are read at each request and each
 * (re)connection, so a refreshed JWT is sent on reconnect, and HTTP streams carry the
 * same headers as the queries. Both transports reconnect forever with backoff and
 * resubscribe what was active.
 */
export function createApollo(
  credentials: () => Credentials,
  onLinkState: (state: LinkState, transport: Transport) => void,
): ApolloClient {
  const endpoint = new URL('/graphql', window.location.href);
  const wsUrl = endpoint.href.replace(/^http/, 'ws');
  const headers = (): Record<string, string> => {
    const c = credentials();
    if (c.kind === 'cleartax') return { 'X-Cleartax-Auth-Token': c.token };
    if (c.kind === 'jwt') return { authorization: `Bearer ${c.jwt}` };
    return {};
  };
  const connectionParams = (): Record<string, string> => {
    const c = credentials();
    if (c.kind === 'cleartax') return { authToken: c.token };
    if (c.kind === 'jwt') return { authorization: `Bearer ${c.jwt}` };
    return {};
  };
  const withHeaders = new SetContextLink((prev) => ({ headers: { ...prev.headers, ...headers() } }));
  const http = withHeaders.concat(new HttpLink({ uri: endpoint.href }));

  let live: LiveLink | undefined;
  // Whether the socket of the current attempt was acknowledged (connection_ack).
  let isAcknowledged = false;
  let hasEverConnected = false;
  let failures = 0;
  const wsClient = createClient({
    url: wsUrl,
    connectionParams,
    lazy: true,
    // The board decides when to give up on the socket (LiveLink moves the subscriptions away, which ends the retries).
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, backoff(retries))),
    on: {
      connecting: () => {
        isAcknowledged = false;
        if (live?.transport === 'websocket') onLinkState('connecting', 'websocket');
      },
      connected: () => {
        isAcknowledged = true;
        hasEverConnected = true;
        failures = 0;
        if (live?.transport === 'websocket') onLinkState('connected', 'websocket');
      },
      closed: (event) => {
        if (live?.transport !== 'websocket') return;
        const code = (event as { code?: number }).code ?? 0;
        if (isAcknowledged) return onLinkState(code === 1000 ? 'idle' : 'disconnected', 'websocket');
        // 4xxx: the gateway answered in graphql-ws (e.g. 4403 Forbidden): the socket works, graphql-ws retries.
        if (code < 4000) failures += 1;
        if (failures >= (hasEverConnected ? WEBSOCKET_ATTEMPTS : 1)) live.use('http');
        else onLinkState('disconnected', 'websocket');
      },
    },
  });

  // HTTP streams: "connected" once the gateway answers with its multipart stream.
  const streamingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (response.ok && /^multipart\/mixed/i.test(response.headers.get('content-type') ?? '')) live?.streamOpened();
    return response;
  };
  live = new LiveLink({
    websocket: new GraphQLWsLink(hashOnly(wsClient)),
    http: withHeaders.concat(new HttpLink({ uri: endpoint.href, fetch: streamingFetch })),
    report: onLinkState,
    probe: () => probeWebSocket(wsUrl, connectionParams),
  });

  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    },
    live,
    http,
  );
  // UploadActivity.id is global: a subscription event updates the query's row in place.
  const cache = new InMemoryCache();
  return new ApolloClient({
    link: ApolloLink.from([keepNewerReads(cache), hashesOnly(), link]),
    cache,
  });
}

/**
 * Every operation goes by its hash alone (the contract's "Trusted documents"): the
 * codegen hash of the generated document (`__meta__.hash`, no hashing here) as
 * Apollo's APQ extension, and no text in HTTP bodies (`PersistedQueryLink`), in
 * graphql-ws `subscribe` messages either (`hashOnly`). The gateway always knows the
 * project's own hashes, so a miss is a bug: it surfaces as the error it is, never
 * retried with the text.
 */
function hashesOnly(): ApolloLink {
  return new PersistedQueryLink({
    generateHash: (document) => persistedHash(document),
    retry: () => false,
    disable: () => false,
  });
}

/** The sha256 hex of a document generated by codegen's client preset (its `__meta__.hash`, `sha256:<hex>`). */
function persistedHash(document: DocumentNode): string {
  const hash = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  if (typeof hash !== 'string' || !hash.startsWith('sha256:')) {
    const definition = getMainDefinition(document);
    throw new Error(
      `${definition.name?.value ?? 'An operation'} is not a generated document: it has no persisted hash`,
    );
  }
  return hash.slice('sha256:'.length);
}

/**
 * The graphql-ws client with each `subscribe` sending the hash only: `query: ""` (it
 * must be a string) and the `persistedQuery` extension `hashesOnly` set, never the
 * text `GraphQLWsLink` prints.
 */
function hashOnly(client: Client): Client {
  return {
    ...client,
    subscribe: (payload, sink) => {
      const persistedQuery = payload.extensions?.persistedQuery;
      if (!persistedQuery) {
        sink.error(new Error(`${payload.operationName ?? 'An operation'} has no persisted hash: not sent`));
        return () => undefined;
      }
      const { variables, operationName } = payload;
      return client.subscribe({ query: '', variables, operationName, extensions: { persistedQuery } }, sink);
    },
  };
}

interface ActiveSubscription {
  operation: ApolloLink.Operation;
  forward: ApolloLink.ForwardFunction;
  observer: Observer<ApolloLink.Result>;
  current?: Subscription;
  retry?: ReturnType<typeof setTimeout>;
}

/**
 * The subscription branch: every subscription runs on the current transport. It
 * starts on the WebSocket; when the socket cannot connect (createApollo's `closed`),
 * `use('http')` moves every active subscription to HTTP streaming (unsubscribed from
 * the socket, subscribed again over HTTP), and every `WEBSOCKET_RETRY_MS` a probe
 * tries a WebSocket handshake: when it is acknowledged, they move back. A stream that
 * fails (the gateway down, the network gone) is subscribed again with backoff; a
 * stream that ends normally ends its subscription, as the socket's `complete` does.
 * Each change is reported as (state, transport); the board re-reads its rows after a
 * switch as after a reconnect.
 */
class LiveLink extends ApolloLink {
  transport: Transport = 'websocket';
  private readonly active = new Set<ActiveSubscription>();
  private httpRetries = 0;
  private probing?: ReturnType<typeof setInterval>;

  constructor(
    private readonly options: {
      websocket: ApolloLink;
      http: ApolloLink;
      report: (state: LinkState, transport: Transport) => void;
      probe: () => Promise<boolean>;
    },
  ) {
    super();
  }

  /** Moves to a transport, and every active subscription with it. */
  use(transport: Transport): void {
    if (transport === this.transport) return;
    this.transport = transport;
    this.httpRetries = 0;
    clearInterval(this.probing);
    if (transport === 'http') {
      this.probing = setInterval(() => {
        void this.options.probe().then((isOpen) => {
          if (isOpen && this.transport === 'http') this.use('websocket');
        });
      }, WEBSOCKET_RETRY_MS);
    }
    this.options.report('connecting', transport);
    for (const subscription of this.active) this.start(subscription);
  }

  /** An HTTP stream is open: live over HTTP. */
  streamOpened(): void {
    this.httpRetries = 0;
    if (this.transport === 'http') this.options.report('connected', 'http');
  }

  override request(operation: ApolloLink.Operation, forward: ApolloLink.ForwardFunction) {
    return new Observable<ApolloLink.Result>((observer) => {
      const subscription: ActiveSubscription = { operation, forward, observer };
      this.active.add(subscription);
      this.start(subscription);
      return () => this.stop(subscription);
    });
  }

  private start(subscription: ActiveSubscription): void {
    subscription.current?.unsubscribe();
    clearTimeout(subscription.retry);
    const transport = this.transport;
    const { observer } = subscription;
    subscription.current = this.options[transport].request(subscription.operation, subscription.forward).subscribe({
      next: (result) => observer.next(result),
      complete: () => {
        this.stop(subscription);
        observer.complete();
        if (transport === 'http' && this.transport === 'http' && this.active.size === 0)
          this.options.report('idle', 'http');
      },
      error: (error: unknown) => {
        if (transport === 'http' && isPassing(error)) {
          // The stream failed, not the subscription: subscribe again, with backoff.
          this.options.report('disconnected', 'http');
          subscription.retry = setTimeout(() => this.start(subscription), backoff(this.httpRetries++));
          return;
        }
        this.stop(subscription);
        observer.error(error);
      },
    });
  }

  private stop(subscription: ActiveSubscription): void {
    this.active.delete(subscription);
    clearTimeout(subscription.retry);
    subscription.current?.unsubscribe();
    subscription.current = undefined;
  }
}

/** An HTTP stream's failure that another attempt may not meet: no answer, or a server or rate-limit status. */
function isPassing(error: unknown): boolean {
  if (CombinedProtocolErrors.is(error)) return false;
  if (ServerError.is(error)) return error.statusCode >= 500 || error.statusCode === 429 || error.statusCode === 408;
  return true;
}

/**
 * Whether a graphql-ws handshake succeeds now: a socket, `connection_init` with the
 * board's credentials, and `connection_ack` within 5 s; the socket is closed at once.
 */
function probeWebSocket(url: string, connectionParams: () => Record<string, string>): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    const done = (isOpen: boolean) => {
      clearTimeout(timer);
      socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
      if (socket.readyState === WebSocket.OPEN) socket.close(1000, 'Normal Closure');
      else if (socket.readyState === WebSocket.CONNECTING) socket.onopen = () => socket.close(1000, 'Normal Closure');
      resolve(isOpen);
    };
    const timer = setTimeout(() => done(false), 5000);
    socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: connectionParams() }));
    socket.onmessage = (message) => {
      let type: unknown;
      try {
        type = (JSON.parse(String(message.data)) as { type?: unknown }).type;
      } catch {
        type = undefined;
      }
      done(type === 'connection_ack');
    };
    socket.onerror = () => done(false);
    socket.onclose = () => done(false);
  });
}

/**
 * Query answers and subscription events write the same normalised activity, in the
 * order they arrive, and they arrive on two channels (HTTP, a WebSocket or an HTTP stream). This link makes
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
