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
 * --transport ws|multipart|sse|mixed (default ws) chooses how subscribers subscribe:
 * graphql-ws over --connections sockets, Apollo multipart over HTTP (POST /graphql),
 * or GraphQL over SSE (POST /graphql/stream, distinct connection mode), one HTTP
 * stream (and socket) per subscriber, opened --openConcurrency at a time (see
 * bench/fanout-streams.ts); mixed puts a third of the subscribers on each, on the
 * same activities. Gateway RSS is reported beside heap (both after GC).
 *
 * Options: --transport ws --subscribers 5000 --activities 50 --connections 100 --intervalMs 100
 *          --maxIntervalMs 400 --stepMs 1000 --abortEvery 5 --openConcurrency 200
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { print, type ExecutionResult } from 'graphql';
import { UploadActivityStatusChangedDocument } from '../schema/generated/graphql.js';
import { ENTITY, numericArgs, percentile, table } from './harness.js';
import { inBatches, streamAgent, subscribeStream, type StreamHandlers } from './fanout-streams.js';

type Transport = 'ws' | 'multipart' | 'sse';
const TRANSPORT_MODES = ['ws', 'multipart', 'sse', 'mixed'] as const;

/** `--transport X` (or `--transport=X`) taken off the command line; the rest are numeric options. */
function transportArg(argv: string[]): { mode: (typeof TRANSPORT_MODES)[number]; rest: string[] } {
  const rest = [...argv];
  let value: string | undefined;
  const at = rest.findIndex((arg) => arg === '--transport' || arg.startsWith('--transport='));
  if (at >= 0) {
    const [arg] = rest.splice(at, 1);
    value = arg!.includes('=') ? arg!.slice(arg!.indexOf('=') + 1) : rest.splice(at, 1)[0];
  }
  const mode = TRANSPORT_MODES.find((m) => m === (value ?? 'ws'));
  if (!mode) throw new Error(`--transport must be one of ${TRANSPORT_MODES.join('|')}, got ${String(value)}`);
  return { mode, rest };
}
const { mode, rest: numericArgv } = transportArg(process.argv.slice(2));
const opts = numericArgs(
  {
    subscribers: 5000,
    activities: 50,
    connections: 100,
    intervalMs: 100,
    maxIntervalMs: 400,
    stepMs: 1000,
    abortEvery: 5,
    openConcurrency: 200,
  },
  numericArgv,
);
const transportOf = (i: number): Transport => (mode === 'mixed' ? (['ws', 'multipart', 'sse'] as const)[i % 3]! : mode);
const wsSubscribers = Array.from({ length: opts.subscribers }, (_, i) => transportOf(i)).filter(
  (t) => t === 'ws',
).length;
const streamSubscribers = opts.subscribers - wsSubscribers;
const STEPS = 6;
/** Hard stop for the whole run, so it always ends by itself. */
const DEADLINE_MS = 170_000;
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
      MAX_SUBSCRIPTIONS_PER_CONNECTION: String(Math.max(1, Math.ceil(wsSubscribers / opts.connections))),
      UPSTREAM_MAX_CONCURRENCY: '64',
      // Every bench client is 127.0.0.1: the caps (10,000 streams, 1,000 per address) set out of reach.
      MAX_STREAMS: String(streamSubscribers + 1000),
      MAX_CONNECTIONS: String(opts.connections + 1000),
      MAX_CONNECTIONS_PER_ADDRESS: String(streamSubscribers + opts.connections + 1000),
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
interface Memory {
  heapUsed: number;
  rss: number;
}
const memoryBefore = await ask<Memory>({ cmd: 'memory' });

const clients: Client[] = Array.from({ length: wsSubscribers > 0 ? opts.connections : 0 }, () =>
  createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authToken: 'bench' },
  }),
);

interface Subscriber {
  activity: number;
  transport: Transport;
  events: { label: string; at: number }[];
  isDone: boolean;
  failed?: unknown;
}
const query = print(UploadActivityStatusChangedDocument);
const handlersOf = (subscriber: Subscriber): StreamHandlers => ({
  next: (result: ExecutionResult) => {
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
});
const subscribers: Subscriber[] = Array.from({ length: opts.subscribers }, (_, i) => ({
  activity: i % opts.activities,
  transport: transportOf(i),
  events: [],
  isDone: false,
}));
const variablesOf = (s: Subscriber) => ({ taxableEntityId: ENTITY, activityId: ids[s.activity]! });
const opening = now();
let nextClient = 0;
for (const s of subscribers) {
  if (s.transport === 'ws')
    clients[nextClient++ % clients.length]!.subscribe({ query, variables: variablesOf(s) }, handlersOf(s));
}
const agent = streamAgent();
const streamed = subscribers.filter((s) => s.transport !== 'ws');
await inBatches(streamed.length, opts.openConcurrency, (i) => {
  const s = streamed[i]!;
  return subscribeStream(
    s.transport as Exclude<Transport, 'ws'>,
    { url, agent, headers: { 'x-cleartax-auth-token': 'bench' } },
    { query, variables: variablesOf(s) },
    handlersOf(s),
  );
});

const waitFor = async (predicate: () => boolean, what: string, ms = 30_000) => {
  const until = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
};
await waitFor(() => subscribers.every((s) => s.events.length >= 1 || s.isDone), 'first events', 60_000);
const openSeconds = (now() - opening) / 1000;
const memoryAfter = await ask<Memory>({ cmd: 'memory' });
interface Stats {
  requests: number;
  watcher: { keys: number; subscriptions: number };
  connections: number;
  streams: Record<string, number>;
}
const before = await ask<Stats>({ cmd: 'stats' });

const stepAt: number[] = [];
const started = now();
for (let step = 0; step < STEPS; step++) {
  await sleep(opts.stepMs);
  stepAt.push((await ask<{ at: number }>({ cmd: 'step' })).at);
}
await waitFor(() => subscribers.every((s) => s.isDone), 'completion');
const finished = now();
const after = await ask<Stats>({ cmd: 'stats' });

const expectedFor = (activity: number) => {
  const last = (activity + 1) % opts.abortEvery === 0 ? 'ABORTED:0' : 'PROCESSED:0';
  return ['INIT:0', 'UPLOADED:0', 'QUEUED:3', 'QUEUED:2', 'QUEUED:1', 'PROCESSING:0', last];
};
interface Tally {
  subscribers: number;
  received: number;
  missed: number;
  duplicated: number;
  wrongOrder: number;
  failed: number;
  latencies: number[];
  firstFailure?: unknown;
}
const tallies = new Map<Transport | 'all', Tally>();
const tallyOf = (key: Transport | 'all'): Tally => {
  let tally = tallies.get(key);
  if (!tally) {
    tally = { subscribers: 0, received: 0, missed: 0, duplicated: 0, wrongOrder: 0, failed: 0, latencies: [] };
    tallies.set(key, tally);
  }
  return tally;
};
for (const s of subscribers) {
  const expected = expectedFor(s.activity);
  const labels = s.events.map((e) => e.label);
  let duplicated = 0;
  for (let i = 1; i < labels.length; i++) if (labels[i] === labels[i - 1]) duplicated += 1;
  const distinct = labels.filter((label, i) => i === 0 || label !== labels[i - 1]);
  const missed = expected.filter((label) => !distinct.includes(label)).length;
  const isWrongOrder = distinct.join() !== expected.filter((label) => distinct.includes(label)).join();
  // Event k (k >= 1) answers step k-1.
  const latencies: number[] = [];
  s.events.forEach((event, k) => {
    if (k >= 1 && k <= STEPS && event.label === expected[k]) latencies.push(event.at - stepAt[k - 1]!);
  });
  for (const tally of [tallyOf('all'), tallyOf(s.transport)]) {
    tally.subscribers += 1;
    tally.received += s.events.length;
    tally.missed += missed;
    tally.duplicated += duplicated;
    if (isWrongOrder) tally.wrongOrder += 1;
    if (s.failed) {
      tally.failed += 1;
      tally.firstFailure ??= s.failed;
    }
    for (const latency of latencies) tally.latencies.push(latency);
  }
}
for (const tally of tallies.values()) tally.latencies.sort((a, b) => a - b);
const all = tallyOf('all');
const seconds = (finished - started) / 1000;
const intervals = (finished - started) / opts.intervalMs;
const upstream = after.requests - before.requests;

for (const client of clients) await client.dispose();
agent.destroy();
await sleep(100);
const leftover = await ask<Stats>({ cmd: 'stats' });
await ask({ cmd: 'stop' }).catch(() => undefined);
clearTimeout(deadline);

const streamsOf = (stats: Stats) => `${stats.streams.multipart ?? 0} / ${stats.streams.sse ?? 0}`;
const perSubscriber = (key: keyof Memory) => Math.round((memoryAfter[key] - memoryBefore[key]) / opts.subscribers);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const groups = mode === 'mixed' ? (['all', 'ws', 'multipart', 'sse'] as const) : (['all'] as const);
const row = (metric: string, value: (tally: Tally) => string | number): (string | number)[] => [
  metric,
  ...groups.map((group) => value(tallyOf(group))),
];
/** Figures of the whole run, in the first column only when there are several. */
const whole = (metric: string, value: string | number): (string | number)[] => [
  metric,
  value,
  ...groups.slice(1).map(() => ''),
];

console.log(
  `\nfanout bench (${mode}): ${opts.subscribers} subscribers over ${opts.activities} activities; ` +
    `${wsSubscribers} on graphql-ws over ${clients.length} connections, ${streamSubscribers} on HTTP streams; ` +
    `poll ${opts.intervalMs}-${opts.maxIntervalMs} ms, one lifecycle step every ${opts.stepMs} ms; node ${process.version}\n`,
);
console.log(
  table(
    ['metric', ...(mode === 'mixed' ? groups : ['value'])],
    [
      row('subscribers', (t) => t.subscribers),
      row('deliveries expected', (t) => t.subscribers * (STEPS + 1)),
      row('deliveries received', (t) => t.received),
      row('missed', (t) => t.missed),
      row('duplicated', (t) => t.duplicated),
      row('out of order', (t) => t.wrongOrder),
      row('subscriptions failed', (t) => t.failed),
      whole('upstream requests (driven phase)', upstream),
      whole('upstream requests per activity per base interval', (upstream / opts.activities / intervals).toFixed(3)),
      whole('upstream requests per activity per state change', (upstream / opts.activities / STEPS).toFixed(2)),
      row('delivery latency after upstream change p50 (ms)', (t) => percentile(t.latencies, 50).toFixed(0)),
      row('delivery latency after upstream change p99 (ms)', (t) => percentile(t.latencies, 99).toFixed(0)),
      whole('gateway heap per subscriber (bytes, after GC)', perSubscriber('heapUsed')),
      whole('gateway RSS per subscriber (bytes, after GC)', perSubscriber('rss')),
      whole(
        'gateway heap / RSS before → with subscribers (MiB)',
        `${mib(memoryBefore.heapUsed)} / ${mib(memoryBefore.rss)} → ${mib(memoryAfter.heapUsed)} / ${mib(memoryAfter.rss)}`,
      ),
      whole(
        'pollers / subscriptions / ws connections / multipart / sse streams while watching',
        `${before.watcher.keys} / ${before.watcher.subscriptions} / ${before.connections} / ${streamsOf(before)}`,
      ),
      whole(
        'pollers / subscriptions / ws connections / multipart / sse streams after disconnect',
        `${leftover.watcher.keys} / ${leftover.watcher.subscriptions} / ${leftover.connections} / ${streamsOf(leftover)}`,
      ),
      whole('subscribing until every first event (s)', openSeconds.toFixed(1)),
      whole('driven phase (s)', seconds.toFixed(1)),
    ],
  ),
);
/** An error, a GraphQL error list or a WebSocket close/error event, in one line. */
const describe = (failure: unknown): string => {
  if (failure instanceof Error) return failure.message;
  const event = failure as { type?: string; code?: number; reason?: string; message?: string };
  if (event?.type)
    return `${event.type} event${event.code ? ` ${event.code} ${event.reason ?? ''}` : ''}${event.message ? `: ${event.message}` : ''}`;
  return JSON.stringify(failure);
};
for (const [group, tally] of tallies) {
  if (tally.firstFailure !== undefined && (group !== 'all' || mode !== 'mixed'))
    console.log(`first failure (${group}): ${describe(tally.firstFailure)}`);
}
process.exit(all.missed + all.duplicated + all.wrongOrder + all.failed === 0 ? 0 : 1);
