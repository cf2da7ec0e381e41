import { existsSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { sep } from 'node:path';
import express from 'express';
import helmet from 'helmet';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import { allowedHostsOnly, corsFor, SSE_CORS } from '../server/cors.js';
import { createHealthRouter, createMetricsRouter } from '../server/health.js';
import { mountGraphQL } from '../server/http.js';
import { requestScope } from '../server/request-id.js';
import type { AppConfig, Core } from './core.js';
import type { Edge } from './edge.js';

export interface HttpAppOptions {
  logger: Logger;
  /** Whether the gateway is draining: /readyz answers 503 and no answer keeps its connection open. */
  isDraining: () => boolean;
  /** Where the built board is (dist/web). */
  webAppDir: string;
  /** The demo activities to show on the board (embedded simulator only). @default none */
  demo?: (() => { taxableEntityId: string; activityIds: string[] }) | undefined;
}

/**
 * The gateway's HTTP routes, in order: request id, draining, allowed hosts, CORS on
 * /graphql, health (and metrics unless on their own port), /app-config.json, the
 * board, then GraphQL. Routes only: everything they serve is built elsewhere.
 */
export function createHttpApp(config: AppConfig, core: Core, edge: Edge, options: HttpAppOptions): express.Express {
  const { logger } = options;
  const link = core.cluster?.link;
  const app = express();
  const cors = corsFor(edge.browser);
  app.disable('x-powered-by');
  app.use(requestScope());
  app.use((_req, res, next) => {
    // Draining: no answer keeps its connection open for another request.
    if (options.isDraining()) res.setHeader('Connection', 'close');
    next();
  });
  app.use(allowedHostsOnly(config.allowedHosts));
  // /graphql/stream first: its preflight also allows graphql-sse's single connection mode.
  app.use('/graphql/stream', corsFor(edge.browser, SSE_CORS));
  app.use('/graphql', (req, res, next) =>
    req.path === '/stream' || req.path.startsWith('/stream/') ? next() : cors(req, res, next),
  );
  app.use(
    createHealthRouter({
      checks: [{ name: 'upstream', check: () => core.client.ping() }],
      isUnavailable: options.isDraining,
      ...(link ? { redis: () => (link.isUp ? 'ok' : 'down') } : {}),
    }),
  );
  if (config.metricsPort === undefined) app.use(createMetricsRouter(core.metrics.registry));
  // What the board needs before its first query: the access mode, and the demo ids with the simulator.
  app.get('/app-config.json', (_req, res) => {
    res.json({ authMode: config.authMode, ...(options.demo ? { demo: options.demo() } : {}) });
  });
  if (config.webAppEnabled) {
    if (existsSync(`${options.webAppDir}/index.html`))
      app.use(webAppRoutes(options.webAppDir, { isProduction: config.isProduction }));
    else
      logger.warn({ webAppDir: options.webAppDir }, 'WEB_APP_ENABLED, but the web app is not built: run npm run build');
  }
  // GraphQL over SSE, before /graphql's own routes (which would take /graphql/stream too).
  app.use('/graphql/stream', express.json({ limit: config.maxBodyBytes }), edge.sse);
  mountGraphQL(app, edge.apollo, {
    core: edge.core,
    streams: edge.streams,
    heartbeatMs: config.httpStreamHeartbeatMs,
    maxBodyBytes: config.maxBodyBytes,
    logger,
    accessLog: edge.accessLog,
    prepare: edge.prepare,
  });
  return app;
}

/** /metrics alone, for METRICS_PORT. */
export function createMetricsApp(registry: Registry): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(createMetricsRouter(registry));
  return app;
}

/**
 * The board's files, with the security headers a page needs (helmet: a strict
 * Content-Security-Policy, nosniff, frame protection; not on /graphql, whose
 * Sandbox loads from Apollo's CDN). index.html is revalidated every time (it names
 * the hashed bundles), the content-hashed assets are cached for a year as
 * immutable, and source maps are not served in production.
 */
function webAppRoutes(dir: string, options: { isProduction: boolean }): express.Router {
  const router = express.Router();
  // /graphql (and Sandbox) is not the board's: leave it to the GraphQL routes.
  router.use((req, _res, next) =>
    next(req.path === '/graphql' || req.path.startsWith('/graphql/') ? 'router' : undefined),
  );
  router.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      // The board is same-origin only; Sandbox and cross-origin API use are elsewhere.
      crossOriginEmbedderPolicy: false,
    }),
  );
  if (options.isProduction)
    router.use((req, res, next) => (req.path.endsWith('.map') ? res.status(404).end() : next()));
  router.use(
    express.static(dir, {
      index: 'index.html',
      setHeaders(res: ServerResponse, path: string) {
        if (path.endsWith('.html')) res.setHeader('Cache-Control', 'no-cache');
        else if (path.includes(`${sep}assets${sep}`))
          res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
        else res.setHeader('Cache-Control', 'no-cache');
      },
    }),
  );
  return router;
}
