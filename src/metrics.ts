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
  watchedKeys: Gauge;
  deliveryLag: Histogram;
  webSocketConnections: Gauge;
  subscribers: Gauge;
}

export interface MetricsOptions {
  /** Node's default process metrics (memory, CPU, event loop). @default false */
  collectDefaults?: boolean;
  /** Read at each scrape for the watched-activities and subscribers gauges. @default both gauges stay 0 */
  watcherSize?: () => { keys: number; subscriptions: number };
  /** Multi-instance mode: read at each scrape for gateway_redis_up. @default no such gauge */
  redisUp?: () => boolean;
  /** Read at each scrape for gateway_subscriber_queue_max. @default the gauge stays 0 */
  maxQueued?: () => number;
  /** Read at each scrape for gateway_websocket_connections. @default the gauge stays 0 */
  webSocketConnections?: () => number;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const { watcherSize, redisUp, maxQueued, webSocketConnections } = options;
  const registry = new Registry();
  new Gauge({
    name: 'gateway_subscriber_queue_max',
    help: 'Undelivered events held for the slowest subscriber (at most one per activity it follows)',
    registers: [registry],
    collect() {
      if (maxQueued) this.set(maxQueued());
    },
  });
  if (redisUp) {
    new Gauge({
      name: 'gateway_redis_up',
      help: '1 while the cluster Redis is reachable, 0 while this instance serves alone',
      registers: [registry],
      collect() {
        this.set(redisUp() ? 1 : 0);
      },
    });
  }
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
    webSocketConnections: new Gauge({
      name: 'gateway_websocket_connections',
      help: 'Open WebSocket connections',
      registers: [registry],
      collect() {
        if (webSocketConnections) this.set(webSocketConnections());
      },
    }),
    deliveryLag: new Histogram({
      name: 'gateway_delivery_lag_seconds',
      help: 'From an upstream read to the hand-over of its event to the WebSocket writer, per subscriber',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.5, 1],
      registers: [registry],
    }),
    watchedKeys: new Gauge({
      name: 'gateway_watched_activities',
      help: 'Activities the StatusWatcher polls (one per token, entity, activity)',
      registers: [registry],
      collect() {
        if (watcherSize) this.set(watcherSize().keys);
      },
    }),
    subscribers: new Gauge({
      name: 'gateway_subscribers',
      help: 'Subscribers across all watched activities',
      registers: [registry],
      collect() {
        if (watcherSize) this.set(watcherSize().subscriptions);
      },
    }),
  };
}
