import 'reflect-metadata';
import { startTelemetry, type Telemetry } from './app/telemetry.js';
import { ConfigError, loadConfig, type Config } from './config.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Invalid configuration: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  // Tracing first: its instrumentations patch express, graphql, pino and http only as
  // they load, so the gateway (and the logger, pino) are imported after it has started.
  const telemetry: Telemetry | undefined = config.tracingEnabled ? await startTelemetry() : undefined;
  const [{ startGateway }, { createLogger }] = await Promise.all([import('./app/gateway.js'), import('./logger.js')]);
  const logger = createLogger(config.logLevel);
  const gateway = await startGateway(config, { logger });

  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal, exiting now');
      process.exit(1);
    }
    shuttingDown = true;
    logger.info({ signal }, 'shutting down');
    // The gateway answers or aborts everything within SHUTDOWN_GRACE_MS; this is the last resort.
    setTimeout(() => {
      logger.error('shutdown took too long, exiting');
      process.exit(1);
    }, config.shutdownGraceMs + 2000).unref();
    gateway
      .stop()
      // The last spans (the shutdown's own) are flushed before exit.
      .then(() => telemetry?.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  const { app, simulator, upstreamUrl } = gateway;
  const url = app.url;
  const lines = [
    '',
    ...(config.webAppEnabled
      ? [`  Board:     ${url.replace(/\/graphql$/, '/')}  (the live status board: open in a browser)`]
      : []),
    `  GraphQL:   ${url}  (POST/GET; WebSocket ${url.replace(/^http/, 'ws')})`,
    `  Sandbox:   ${config.sandboxEnabled ? `${url}  (open in a browser; loads Apollo Sandbox from Apollo's CDN, so it needs internet)` : 'disabled (SANDBOX_ENABLED=false)'}`,
    `  Health:    ${url.replace(/\/graphql$/, '/healthz')}  ${url.replace(/\/graphql$/, '/readyz')}`,
    `  Upstream:  ${simulator ? `embedded simulator at ${upstreamUrl} (lifecycle step ${config.simulatorStepMs} ms)` : upstreamUrl}`,
  ];
  if (simulator) {
    lines.push('  Seeded activities (taxableEntityId activityId status):');
    for (const a of simulator.activities()) lines.push(`    ${a.taxableEntityId} ${a.activityId} ${a.status}`);
  }
  lines.push(
    `  Access:    AUTH_MODE=${config.authMode}${config.authMode === 'open' ? ' (no credentials needed; every caller reads with the server token)' : ''}`,
  );
  console.log(lines.join('\n') + '\n');
}

main().catch((error: unknown) => {
  console.error('Gateway failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
