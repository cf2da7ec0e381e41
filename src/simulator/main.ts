import { loadConfig, ConfigError } from '../config.js';
import { createSimulator } from './server.js';

/**
 * `npm run simulator`: the embedded ClearTax on its own, for demos and manual testing,
 * on loopback (its control routes are unauthenticated) and port SIMULATOR_PORT
 * (0, the default, = any free port; the URL is printed).
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const simulator = createSimulator({
    host: '127.0.0.1',
    port: config.simulatorPort,
    stepMs: config.simulatorStepMs,
    shouldSeed: true,
  });
  const url = await simulator.start();
  console.log(`ClearTax simulator at ${url} (step ${config.simulatorStepMs} ms)`);
  for (const a of simulator.activities()) console.log(`  ${a.taxableEntityId} ${a.activityId} ${a.status}`);
  const stop = () => void simulator.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `Invalid configuration: ${error.message}` : error);
  process.exit(1);
});
