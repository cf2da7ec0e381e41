import { loadConfig, ConfigError } from '../config.js';
import { createSimulator } from './server.js';

/** `npm run simulator`: the embedded ClearTax on its own, for demos and manual testing. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const simulator = createSimulator({ host: config.host, port: config.simulatorPort || 4010, stepMs: config.simulatorStepMs, shouldSeed: true });
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
