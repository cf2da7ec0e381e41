import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one gateway (prom-client). A registry per app, not the
 * global one, so two gateways in one test process do not collide.
 */
export interface Metrics {
  registry: Registry;
  upstreamAttempts: Counter<'result'>;
  upstreamDuration: Histogram<'result'>;
  sourceLoads: Counter<'outcome'>;
  upstreamInFlight: Gauge;
  deliveryLag: Histogram;
  /**
   * Registers the gauges read at each scrape, once what they read exists (the
   * composition root calls it after building the watcher, the cluster link, the
   * WebSocket endpoint). Each gauge is registered by the first call that names it.
   */
  observe(targets: ObservedTargets): void;
}

/** What the scrape-time gauges read. */
export interface ObservedTargets {
  /** gateway_watched_activities and gateway_subscribers. */
  watcherSize?: () => { keys: number; subscriptions: number };
  /** gateway_subscriber_queue_max. */
  maxQueued?: () => number;
  /** gateway_redis_up (multi-instance mode only). */
  redisUp?: () => boolean;
  /** gateway_websocket_connections. */
  webSocketConnections?: () => number;
  /** gateway_http_streams{protocol}: open HTTP subscription streams per protocol. */
  httpStreams?: () => Readonly<Record<string, number>>;
}

export interface MetricsOptions {
  /** Node's default process metrics (memory, CPU, event loop). @default false */
  collectDefaults?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  if (options.collectDefaults) collectDefaultMetrics({ register: registry });
  return {
    registry,
    upstreamAttempts: new Counter({
      name: 'gateway_upstream_attempts_total',
      help: 'HTTP attempts towards ClearTax, by HTTP status or timeout/network',
      labelNames: ['result'],
      registers: [registry],
    }),
    upstreamDuration: new Histogram({
      name: 'gateway_upstream_attempt_duration_seconds',
      help: 'Duration of HTTP attempts towards ClearTax',
      labelNames: ['result'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    sourceLoads: new Counter({
      name: 'gateway_status_loads_total',
      help: 'Status reads through the shared StatusSource: upstream, coalesced (joined one in flight) or cached (terminal)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    upstreamInFlight: new Gauge({
      name: 'gateway_upstream_in_flight',
      help: 'Upstream requests in flight',
      registers: [registry],
    }),
    deliveryLag: new Histogram({
      name: 'gateway_delivery_lag_seconds',
      help: 'From an upstream read to the hand-over of its event to the WebSocket writer, per subscriber',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.5, 1],
      registers: [registry],
    }),
    observe({ watcherSize, maxQueued, redisUp, webSocketConnections, httpStreams }) {
      if (httpStreams) {
        new Gauge({
          name: 'gateway_http_streams',
          help: 'Open HTTP subscription streams (Apollo multipart, GraphQL over SSE)',
          labelNames: ['protocol'],
          registers: [registry],
          collect() {
            for (const [protocol, open] of Object.entries(httpStreams())) this.set({ protocol }, open);
          },
        });
      }
      if (watcherSize) {
        gauge(
          'gateway_watched_activities',
          'Activities the StatusWatcher polls (one per token, entity, activity)',
          () => watcherSize().keys,
        );
        gauge('gateway_subscribers', 'Subscribers across all watched activities', () => watcherSize().subscriptions);
      }
      if (maxQueued)
        gauge(
          'gateway_subscriber_queue_max',
          'Undelivered events held for the slowest subscriber (at most one per activity it follows)',
          maxQueued,
        );
      if (redisUp)
        gauge('gateway_redis_up', '1 while the cluster Redis is reachable, 0 while this instance serves alone', () =>
          redisUp() ? 1 : 0,
        );
      if (webSocketConnections)
        gauge('gateway_websocket_connections', 'Open WebSocket connections', webSocketConnections);
    },
  };
}
