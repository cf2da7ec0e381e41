/**
 * `npm run bench:cluster`: multi-instance mode on one Redis.
 *
 * Starts a redis-server (Debian's, on a free port), the simulator and --instances
 * gateways in this process, opens --subscribers graphql-ws subscriptions spread over
 * the instances and --activities activities, then steps every activity through its
 * lifecycle every --stepMs. Prints upstream polls per activity per base interval
 * (and the same run without Redis beside it), missed and duplicated deliveries, p50
 * and p99 delivery latency after the upstream change, and Redis commands per second.
 * Then the failover gap: a lease holder in its own process is SIGKILLed and the time
 * until a survivor delivers the next state is measured; states that came and went
 * inside the gap are counted.
 *
 * Options: --instances 3 --subscribers 3000 --activities 30 --intervalMs 200 --stepMs 1000
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { startGateway, type Gateway } from '../src/app/gateway.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createSimulator, type Simulator } from '../src/simulator/server.js';
import { ENTITY, numericArgs, percentile, table } from './harness.js';

const opts = numericArgs({ instances: 3, subscribers: 3000, activities: 30, intervalMs: 200, stepMs: 1000 });
const STEPS = 6; // INIT → UPLOADED → QUEUED 2 → QUEUED 1 → PROCESSING → PROCESSED
const hardStop = setTimeout(() => {
  console.error('cluster bench did not finish within 240 s');
  process.exit(1);
}, 240_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.timeOrigin + performance.now();
const root = fileURLToPath(new URL('..', import.meta.url));

async function startRedis(): Promise<{ url: string; stop(): void }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    '/usr/bin/redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', () =>
      reject(new Error(`redis-server did not start (is the Debian package redis-server installed?)\n${out}`)),
    );
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

function gatewayEnv(upstream: string, redisUrl?: string): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    AUTH_MODE: 'passthrough',
    RATE_LIMIT_PER_MINUTE: '0',
    CLEARTAX_BASE_URL: upstream,
    POLL_INTERVAL_MS: String(opts.intervalMs),
    POLL_MAX_INTERVAL_MS: String(opts.intervalMs),
    MAX_SUBSCRIPTIONS_PER_CONNECTION: '1000',
    UPSTREAM_MAX_CONCURRENCY: '64',
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
  };
}

const QUERY = `subscription($e: UUID!, $a: UUID!) { uploadActivityStatusChanged(taxableEntityId: $e, activityId: $a) { activityId status queuedCount } }`;

async function fanOut(redisUrl: string | undefined) {
  const simulator: Simulator = createSimulator({ stepMs: 0, idSeed: Math.floor(Math.random() * 2 ** 31) });
  const upstream = await simulator.start();
  const gateways: Gateway[] = [];
  for (let i = 0; i < opts.instances; i++)
    gateways.push(await startGateway(loadConfig(gatewayEnv(upstream, redisUrl)), { logger: createLogger('silent') }));
  const redis = redisUrl ? new Redis(redisUrl) : undefined;
  const ids = Array.from(
    { length: opts.activities },
    () => simulator.createActivity({ taxableEntityId: ENTITY, queueLength: 2 }).activityId,
  );
  const perConnection = 50;
  const clients: Client[] = [];
  const received = new Map<number, { at: number; state: string }[]>();
  let failed = 0;
  for (let s = 0; s < opts.subscribers; s++) {
    if (s % perConnection === 0) {
      const gateway = gateways[(s / perConnection) % gateways.length]!;
      clients.push(
        createClient({
          url: gateway.app.url.replace(/^http/, 'ws'),
          webSocketImpl: WebSocket,
          retryAttempts: 0,
          connectionParams: { authToken: 'bench' },
        }),
      );
    }
    const events: { at: number; state: string }[] = [];
    received.set(s, events);
    clients.at(-1)!.subscribe(
      { query: QUERY, variables: { e: ENTITY, a: ids[s % ids.length] } },
      {
        next: (result) => {
          const e = (result.data as { uploadActivityStatusChanged: { status: string; queuedCount: number } })
            .uploadActivityStatusChanged;
          events.push({ at: now(), state: `${e.status}:${e.queuedCount}` });
        },
        error: () => (failed += 1),
        complete: () => undefined,
      },
    );
  }
  for (let i = 0; i < 600 && [...received.values()].some((events) => events.length === 0); i++) await sleep(50);
  const commandsBefore = redis ? Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))![1]) : 0;
  const requestsBefore = simulator.stats.requests;
  const startedAt = now();
  const changedAt: number[] = [];
  for (let step = 1; step < STEPS; step++) {
    await sleep(opts.stepMs);
    simulator.step();
    changedAt.push(now());
  }
  for (
    let i = 0;
    i < 200 && [...received.values()].some((events) => !events.at(-1)?.state.startsWith('PROCESSED'));
    i++
  )
    await sleep(50);
  const drivenMs = now() - startedAt;
  const polls = simulator.stats.requests - requestsBefore;
  const commands = redis
    ? Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))![1]) - commandsBefore
    : 0;

  const expected = ['INIT:0', 'UPLOADED:0', 'QUEUED:2', 'QUEUED:1', 'PROCESSING:0', 'PROCESSED:0'];
  let missed = 0;
  let duplicated = 0;
  const latencies: number[] = [];
  for (const events of received.values()) {
    const states = events.map((e) => e.state);
    missed += expected.filter((state) => !states.includes(state)).length;
    duplicated += states.length - new Set(states).size;
    events.forEach((event, index) => {
      const stepIndex = expected.indexOf(event.state) - 1;
      if (index > 0 && stepIndex >= 0 && changedAt[stepIndex] !== undefined)
        latencies.push(event.at - changedAt[stepIndex]!);
    });
  }
  latencies.sort((a, b) => a - b);
  for (const client of clients) await client.dispose();
  await redis?.quit();
  for (const gateway of gateways) await gateway.stop();
  await simulator.stop();
  return {
    pollsPerActivityPerInterval: polls / opts.activities / (drivenMs / opts.intervalMs),
    missed,
    duplicated,
    failed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    commandsPerSecond: commands / (drivenMs / 1000),
  };
}

/** Kills the lease holder (its own process) and measures how long the survivor takes to deliver the next state. */
async function failover(redisUrl: string) {
  // Fresh ids: the fan-out phase left snapshots of its (seeded) ids in Redis.
  const simulator = createSimulator({ stepMs: 0, idSeed: Math.floor(Math.random() * 2 ** 31) });
  const upstream = await simulator.start();
  const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 9, isAuto: false });
  const holder: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      ...gatewayEnv(upstream, redisUrl),
      WEB_APP_ENABLED: 'false',
      LOG_LEVEL: 'fatal',
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  holder.stdout!.on('data', (chunk) => (out += String(chunk)));
  for (let i = 0; i < 300 && !/GraphQL:\s+\S+/.test(out); i++) await sleep(50);
  const watch = (url: string) => {
    const seen: { at: number; state: string }[] = [];
    const client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authToken: 'bench' },
    });
    client.subscribe(
      { query: QUERY, variables: { e: ENTITY, a: a.activityId } },
      {
        next: (r) =>
          seen.push({
            at: now(),
            state: String(
              (r.data as { uploadActivityStatusChanged: { queuedCount: number } }).uploadActivityStatusChanged
                .queuedCount,
            ),
          }),
        error: () => undefined,
        complete: () => undefined,
      },
    );
    return { seen, client };
  };
  const onHolder = watch(/GraphQL:\s+(\S+)/.exec(out)![1]!);
  const inspector = new Redis(redisUrl);
  for (let i = 0; i < 200 && (await inspector.keys('gw:lease:*')).length === 0; i++) await sleep(50);
  const survivor = await startGateway(loadConfig(gatewayEnv(upstream, redisUrl)), { logger: createLogger('silent') });
  const onSurvivor = watch(survivor.app.url);
  for (let i = 0; i < 200 && onSurvivor.seen.length === 0; i++) await sleep(50);
  holder.kill('SIGKILL');
  const killedAt = now();
  // A state that lasts 1 s (inside the gap), then one that stays.
  simulator.setState(ENTITY, a.activityId, { queuedCount: 8 });
  await sleep(1000);
  simulator.setState(ENTITY, a.activityId, { queuedCount: 7 });
  for (let i = 0; i < 400 && !onSurvivor.seen.some((e) => e.state === '7'); i++) await sleep(25);
  const resumed = onSurvivor.seen.find((e) => e.at > killedAt);
  const gap = resumed ? resumed.at - killedAt : NaN;
  const cameAndWent = onSurvivor.seen.some((e) => e.state === '8') ? 0 : 1;
  await onHolder.client.dispose();
  await onSurvivor.client.dispose();
  await inspector.quit();
  await survivor.stop();
  await simulator.stop();
  return { gap, cameAndWent, states: onSurvivor.seen.map((e) => e.state).join(' → ') };
}

const redis = await startRedis();
try {
  console.log(
    `cluster bench: ${opts.instances} instances, ${opts.subscribers} subscribers over ${opts.activities} activities, poll every ${opts.intervalMs} ms, a lifecycle step every ${opts.stepMs} ms; node ${process.version}\n`,
  );
  const clustered = await fanOut(redis.url);
  const alone = await fanOut(undefined);
  const gap = await failover(redis.url);
  const f = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
  console.log(
    table(
      ['metric', 'with Redis', 'without Redis'],
      [
        [
          'upstream polls per activity per base interval',
          f(clustered.pollsPerActivityPerInterval),
          f(alone.pollsPerActivityPerInterval),
        ],
        ['missed deliveries', clustered.missed, alone.missed],
        ['duplicated deliveries', clustered.duplicated, alone.duplicated],
        ['subscriptions failed', clustered.failed, alone.failed],
        ['delivery latency after upstream change p50 (ms)', f(clustered.p50, 0), f(alone.p50, 0)],
        ['delivery latency after upstream change p99 (ms)', f(clustered.p99, 0), f(alone.p99, 0)],
        ['Redis commands per second', f(clustered.commandsPerSecond, 0), '-'],
        ['failover gap after killing the lease holder (ms)', f(gap.gap, 0), '-'],
        ['states that came and went inside the gap (not seen)', gap.cameAndWent, '-'],
        ['states the survivor delivered', gap.states, '-'],
      ],
    ),
  );
} finally {
  redis.stop();
  clearTimeout(hardStop);
}
