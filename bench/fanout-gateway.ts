/**
 * Child process of bench/fanout.ts: the simulator and a gateway, driven over IPC,
 * so the gateway's memory and CPU are measured apart from the benchmark's clients.
 * Run with --expose-gc.
 */
import { ENTITY, startGateway } from './harness.js';

type Command =
  | { cmd: 'create'; count: number; abortEvery: number }
  | { cmd: 'step' }
  | { cmd: 'memory' }
  | { cmd: 'stats' }
  | { cmd: 'stop' };

const env = JSON.parse(process.env.FANOUT_ENV ?? '{}') as Record<string, string>;
const gateway = await startGateway(env);
const now = () => performance.timeOrigin + performance.now();

/** Open HTTP streams per protocol, as the `gateway_http_streams` gauge reads them. */
async function openStreams(): Promise<Record<string, number>> {
  const gauge = gateway.app.metrics.registry.getSingleMetric('gateway_http_streams');
  if (!gauge) return {};
  const { values } = await gauge.get();
  return Object.fromEntries(values.map(({ labels, value }) => [String(labels.protocol), value]));
}

function reply(message: unknown): void {
  process.send?.(message);
}

process.on('message', async (message: Command) => {
  switch (message.cmd) {
    case 'create': {
      const ids = Array.from(
        { length: message.count },
        (_, i) =>
          gateway.simulator.createActivity({
            taxableEntityId: ENTITY,
            queueLength: 3,
            willAbort: (i + 1) % message.abortEvery === 0,
          }).activityId,
      );
      return reply({ ids });
    }
    case 'step':
      gateway.simulator.step();
      return reply({ at: now() });
    case 'memory': {
      for (let i = 0; i < 3; i++) globalThis.gc?.();
      return reply({ heapUsed: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss });
    }
    case 'stats':
      return reply({
        requests: gateway.simulator.stats.requests,
        watcher: gateway.app.watcher.size,
        connections: gateway.app.connections,
        streams: await openStreams(),
      });
    case 'stop':
      await gateway.stop();
      reply({ stopped: true });
      process.exit(0);
  }
});

// The bench gone (finished, failed or killed): never outlive it.
process.on('disconnect', () => process.exit(0));
reply({ url: gateway.app.url });
