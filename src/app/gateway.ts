import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import { listen } from '../server/listen.js';
import { createSimulator, SEED_ENTITY_ID, type Simulator, type SimulatorOptions } from '../simulator/server.js';
import type { createCluster } from '../cluster/index.js';
import type { StatusSource } from '../upload-activity/status-source.js';
import type { StatusWatcher } from '../upload-activity/status-watcher.js';
import { checkoutPath } from './checkout.js';
import { createCore, type AppConfig } from './core.js';
import { createEdge } from './edge.js';
import { createHttpApp, createMetricsApp } from './http-app.js';
import { Lifecycle, type Phase } from './lifecycle.js';

export type { AppConfig } from './core.js';

export interface App {
  /** Listens on `config.host:config.port` (0 = any free port); resolves to the GraphQL URL. Once only: a stopped app does not start again. */
  start(): Promise<string>;
  /** Drains HTTP, closes sockets, stops every poller. Idempotent, and safe in any phase. */
  stop(): Promise<void>;
  /** created → starting → serving → draining → stopped. */
  readonly phase: Phase;
  /** `http://host:port/graphql`, once started. */
  readonly url: string;
  /** Where /metrics is served: its own port (METRICS_PORT) or the main one. */
  readonly metricsUrl: string;
  readonly source: StatusSource;
  readonly watcher: StatusWatcher;
  readonly metrics: Metrics;
  /** Open WebSocket connections. */
  readonly connections: number;
  /** The validated-document cache shared by every transport: entries and estimated bytes. */
  readonly documentCache: { documents: number; bytes: number };
}

export interface AppDependencies {
  logger: Logger;
  /** The demo activities to show on the board (embedded simulator only). @default none */
  demo?: () => { taxableEntityId: string; activityIds: string[] };
  /** Multi-instance mode's factory (src/cluster/), loaded only when REDIS_URL is set. @default none: in-process */
  createCluster?: typeof createCluster;
}

/**
 * The composition root: builds the core at once (it listens on nothing), and on
 * `start` the edge (schema, access, transports, Apollo), the routes and the
 * listeners. Everything is created per app, so tests can run several side by side.
 * Each piece registers its drain and dispose steps on the lifecycle as it is built.
 */
export function createApp(config: AppConfig, deps: AppDependencies): App {
  const { logger } = deps;
  const lifecycle = new Lifecycle(logger);
  // dist/web: beside dist/server when compiled, ../dist/web from src/ under tsx (never web/, the sources).
  const webAppDir = fileURLToPath(checkoutPath('dist/web/'));
  const httpServer: Server = createServer();
  const metricsServer: Server = createServer();
  lifecycle.onDispose('listeners', async () => {
    // Apollo's drain closes the main server; these are for a start that failed before it.
    await Promise.all([close(httpServer), close(metricsServer)]);
    logger.info('gateway stopped');
  });
  const core = createCore(config, { logger, lifecycle, createCluster: deps.createCluster });
  let url = '';
  let metricsUrl = '';
  let connections = () => 0;
  let documentCache = () => ({ documents: 0, bytes: 0 });

  async function start(): Promise<string> {
    const edge = await createEdge(config, core, { logger, lifecycle, httpServer });
    connections = () => edge.webSocket.connections;
    documentCache = () => edge.prepare.cache;
    const app = createHttpApp(config, core, edge, {
      logger,
      webAppDir,
      isDraining: () => lifecycle.phase === 'draining',
      demo: deps.demo,
    });
    httpServer.on('request', app);
    if (config.metricsPort !== undefined) {
      metricsServer.on('request', createMetricsApp(core.metrics.registry));
      metricsUrl = `${await listen(metricsServer, config.metricsPort, config.metricsHost)}/metrics`;
      logger.info({ url: metricsUrl }, 'metrics listening');
    }
    url = `${await listen(httpServer, config.port, config.host)}/graphql`;
    // The notice, first of the drain: still listening, /readyz 503, every answer
    // `Connection: close`, so the load balancer stops sending and keep-alive clients
    // move on before any socket is cut.
    lifecycle.onDrain('notice', async () => {
      if (config.shutdownNoticeMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownNoticeMs));
    });
    logger.info({ url }, 'gateway listening');
    return url;
  }

  return {
    start: () => lifecycle.start(start),
    stop: () => lifecycle.stop(),
    get phase() {
      return lifecycle.phase;
    },
    get url() {
      return url;
    },
    get metricsUrl() {
      return metricsUrl || url.replace(/\/graphql$/, '/metrics');
    },
    source: core.source,
    watcher: core.watcher,
    metrics: core.metrics,
    get connections() {
      return connections();
    },
    get documentCache() {
      return documentCache();
    },
  };
}

/** Closes a server if it listens. */
function close(server: Server): Promise<void> {
  return server.listening ? new Promise((resolve) => server.close(() => resolve())) : Promise.resolve();
}

/** A started gateway, with the embedded simulator it runs against when no upstream is configured. */
export interface Gateway {
  readonly app: App;
  /** The embedded simulator, when `CLEARTAX_BASE_URL` is unset. */
  readonly simulator: Simulator | undefined;
  /** The upstream base URL in use. */
  readonly upstreamUrl: string;
  /** Stops the gateway, then the simulator. Idempotent. */
  stop(): Promise<void>;
}

export interface StartGatewayOptions {
  logger: Logger;
  /** Overrides for the embedded simulator (tests: clock off, no seed, delays). @default from config, seeded */
  simulator?: Partial<SimulatorOptions>;
}

/**
 * The one way to start the stack, for `main.ts`, the tests and the benchmarks:
 * without `CLEARTAX_BASE_URL`, the embedded simulator on loopback first; then the
 * gateway against whichever upstream that leaves.
 */
export async function startGateway(config: Config, options: StartGatewayOptions): Promise<Gateway> {
  let simulator: Simulator | undefined;
  let upstreamUrl = config.cleartaxBaseUrl;
  if (upstreamUrl === undefined) {
    // Loopback whatever HOST is: its control routes are unauthenticated.
    simulator = createSimulator({
      host: '127.0.0.1',
      port: config.simulatorPort,
      stepMs: config.simulatorStepMs,
      shouldSeed: true,
      demoEverySteps: 2,
      ...options.simulator,
    });
    upstreamUrl = await simulator.start();
    options.logger.warn(
      { upstream: upstreamUrl },
      'CLEARTAX_BASE_URL is unset: serving SIMULATED data from the embedded simulator',
    );
  }
  const sim = simulator;
  // Loaded only when needed: ioredis alone adds ~20 MB to an idle instance.
  const cluster = config.redisUrl ? await import('../cluster/index.js') : undefined;
  const app = createApp(
    { ...config, cleartaxBaseUrl: upstreamUrl },
    {
      logger: options.logger,
      ...(cluster ? { createCluster: cluster.createCluster } : {}),
      ...(sim
        ? {
            demo: () => ({
              taxableEntityId: SEED_ENTITY_ID,
              activityIds: sim.demoActivities().map((a) => a.activityId),
            }),
          }
        : {}),
    },
  );
  try {
    await app.start();
  } catch (error) {
    await Promise.all([app.stop(), simulator?.stop()]);
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    app,
    simulator,
    upstreamUrl,
    stop() {
      stopping ??= app.stop().finally(() => simulator?.stop());
      return stopping;
    },
  };
}
