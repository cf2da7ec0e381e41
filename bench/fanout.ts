/**
 * `npm run bench:fanout`: subscription fan-out through the lifecycle.
 *
 * A child process runs the simulator and the gateway; this process opens
 * --subscribers graphql-ws subscriptions over --connections sockets, spread over
 * --activities activities, then steps every activity through INIT → UPLOADED →
 * QUEUED 3, 2, 1 → PROCESSING → PROCESSED (every --abortEvery-th ends ABORTED),
 * one step every --stepMs. Prints upstream requests per activity per poll
 * interval, missed and duplicated deliveries, delivery latency after the upstream
 * change (p50/p99), and gateway heap per subscriber (after GC, measured in the
 * child before and after the subscriptions opened).
 *
 * Options: --subscribers 5000 --activities 50 --connections 100 --intervalMs 100
 *          --maxIntervalMs 400 --stepMs 1000 --abortEvery 5
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { print } from 'graphql';
import { UploadActivityStatusChangedDocument } from '../schema/generated/graphql.js';
import { ENTITY, numericArgs, percentile, table } from './harness.js';

const opts = numericArgs({
  subscribers: 5000,
  activities: 50,
  connections: 100,
  intervalMs: 100,
  maxIntervalMs: 400,
  stepMs: 1000,
  abortEvery: 5,
});
const STEPS = 6;
/** Hard stop for the whole run, so it always ends by itself. */
const DEADLINE_MS = 120_000;
const deadline = setTimeout(() => {
  console.error(`fanout bench did not finish within ${DEADLINE_MS} ms`);
  process.exit(1);
}, DEADLINE_MS);

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const child: ChildProcess = fork(fileURLToPath(new URL('./fanout-gateway.ts', import.meta.url)), {
  execArgv: [
    '--import',
    'tsx',
    '--expose-gc',
    ...(process.env.FANOUT_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
  ],
  env: {
    ...process.env,
    FANOUT_ENV: JSON.stringify({
      POLL_INTERVAL_MS: String(opts.intervalMs),
      POLL_MAX_INTERVAL_MS: String(opts.maxIntervalMs),
      MAX_SUBSCRIPTIONS_PER_CONNECTION: String(Math.ceil(opts.subscribers / opts.connections)),
      UPSTREAM_MAX_CONCURRENCY: '64',
    }),
  },
});

async function ask<T>(message: unknown): Promise<T> {
  const answer = once(child, 'message') as Promise<[T]>;
  child.send(message as never);
  return (await answer)[0];
}

const { url } = (await once(child, 'message'))[0] as { url: string };
const { ids } = await ask<{ ids: string[] }>({ cmd: 'create', count: opts.activities, abortEvery: opts.abortEvery });
const heapBefore = (await ask<{ heapUsed: number }>({ cmd: 'memory' })).heapUsed;

const clients: Client[] = Array.from({ length: opts.connections }, () =>
  createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authToken: 'bench' },
  }),
);

interface Subscriber {
  activity: number;
  events: { label: string; at: number }[];
  isDone: boolean;
  failed?: unknown;
}
const query = print(UploadActivityStatusChangedDocument);
const subscribers: Subscriber[] = Array.from({ length: opts.subscribers }, (_, i) => {
  const subscriber: Subscriber = { activity: i % opts.activities, events: [], isDone: false };
  clients[i % clients.length]!.subscribe(
    { query, variables: { taxableEntityId: ENTITY, activityId: ids[subscriber.activity] } },
    {
      next: (result) => {
        const value = (
          result.data as { uploadActivityStatusChanged?: { status: string; queuedCount: number | null } } | null
        )?.uploadActivityStatusChanged;
        subscriber.events.push({ label: value ? `${value.status}:${value.queuedCount}` : `error`, at: now() });
      },
      error: (error) => {
        subscriber.failed = error;
        subscriber.isDone = true;
      },
      complete: () => {
        subscriber.isDone = true;
      },
    },
  );
  return subscriber;
});

const waitFor = async (predicate: () => boolean, what: string, ms = 30_000) => {
  const until = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
};
await waitFor(() => subscribers.every((s) => s.events.length >= 1 || s.isDone), 'first events');
const heapAfter = (await ask<{ heapUsed: number }>({ cmd: 'memory' })).heapUsed;
const before = await ask<{ requests: number; watcher: { keys: number; subscriptions: number } }>({ cmd: 'stats' });

const stepAt: number[] = [];
const started = now();
for (let step = 0; step < STEPS; step++) {
  await sleep(opts.stepMs);
  stepAt.push((await ask<{ at: number }>({ cmd: 'step' })).at);
}
await waitFor(() => subscribers.every((s) => s.isDone), 'completion');
const finished = now();
const after = await ask<{ requests: number; watcher: { keys: number; subscriptions: number } }>({ cmd: 'stats' });

const expectedFor = (activity: number) => {
  const last = (activity + 1) % opts.abortEvery === 0 ? 'ABORTED:0' : 'PROCESSED:0';
  return ['INIT:0', 'UPLOADED:0', 'QUEUED:3', 'QUEUED:2', 'QUEUED:1', 'PROCESSING:0', last];
};
let missed = 0;
let duplicated = 0;
let wrongOrder = 0;
let failed = 0;
const latencies: number[] = [];
for (const s of subscribers) {
  if (s.failed) failed += 1;
  const expected = expectedFor(s.activity);
  const labels = s.events.map((e) => e.label);
  for (let i = 1; i < labels.length; i++) if (labels[i] === labels[i - 1]) duplicated += 1;
  const distinct = labels.filter((label, i) => i === 0 || label !== labels[i - 1]);
  missed += expected.filter((label) => !distinct.includes(label)).length;
  if (distinct.join() !== expected.filter((label) => distinct.includes(label)).join()) wrongOrder += 1;
  // Event k (k >= 1) answers step k-1.
  s.events.forEach((event, k) => {
    if (k >= 1 && k <= STEPS && event.label === expected[k]) latencies.push(event.at - stepAt[k - 1]!);
  });
}
latencies.sort((a, b) => a - b);
const seconds = (finished - started) / 1000;
const intervals = (finished - started) / opts.intervalMs;
const upstream = after.requests - before.requests;

for (const client of clients) await client.dispose();
await sleep(100);
const leftover = await ask<{ watcher: { keys: number; subscriptions: number }; connections: number }>({ cmd: 'stats' });
await ask({ cmd: 'stop' }).catch(() => undefined);
clearTimeout(deadline);

console.log(
  `\nfanout bench: ${opts.subscribers} subscribers over ${opts.activities} activities on ${opts.connections} connections; ` +
    `poll ${opts.intervalMs}-${opts.maxIntervalMs} ms, one lifecycle step every ${opts.stepMs} ms; node ${process.version}\n`,
);
console.log(
  table(
    ['metric', 'value'],
    [
      ['deliveries expected', opts.subscribers * (STEPS + 1)],
      ['deliveries received', subscribers.reduce((n, s) => n + s.events.length, 0)],
      ['missed', missed],
      ['duplicated', duplicated],
      ['out of order', wrongOrder],
      ['subscriptions failed', failed],
      ['upstream requests (driven phase)', upstream],
      ['upstream requests per activity per base interval', (upstream / opts.activities / intervals).toFixed(3)],
      ['upstream requests per activity per state change', (upstream / opts.activities / STEPS).toFixed(2)],
      ['delivery latency after upstream change p50 (ms)', percentile(latencies, 50).toFixed(0)],
      ['delivery latency after upstream change p99 (ms)', percentile(latencies, 99).toFixed(0)],
      ['gateway heap per subscriber (bytes, after GC)', Math.round((heapAfter - heapBefore) / opts.subscribers)],
      ['pollers / subscriptions while watching', `${before.watcher.keys} / ${before.watcher.subscriptions}`],
      [
        'pollers / subscriptions / connections after disconnect',
        `${leftover.watcher.keys} / ${leftover.watcher.subscriptions} / ${leftover.connections}`,
      ],
      ['driven phase (s)', seconds.toFixed(1)],
    ],
  ),
);
process.exit(missed + duplicated + wrongOrder + failed === 0 ? 0 : 1);
