/**
 * `npm run bench:footprint`: memory and fan-out latency of the compiled gateway,
 * measured from outside. Starts `dist/server/main.js` (run `npm run build` first) with
 * its embedded simulator, drives the simulator through its control routes, and reads
 * the gateway's own /metrics: RSS idle, with 1,000 subscribers, and at the peak of
 * delivering to --subscribers on --activities; delivery latency at the clients (upstream
 * change → receipt) and the gateway's delivery lag (upstream read → hand-over to the
 * socket writer, from gateway_delivery_lag_seconds), at a fixed --intervalMs.
 *
 * Options: --subscribers 10000 --activities 10 --connections 100 --intervalMs 200 --changes 5
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { numericArgs, percentile, table } from './harness.js';

const opts = numericArgs({ subscribers: 10_000, activities: 10, connections: 100, intervalMs: 200, changes: 5 });
const root = fileURLToPath(new URL('..', import.meta.url));
const ENTITY = '0b8c2a7e-5d1f-4c3a-9e6b-7f2d1a4c8e90';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hardStop = setTimeout(() => {
  console.error('footprint bench did not finish within 240 s');
  process.exit(1);
}, 240_000);

const simulatorPort = 42000 + Math.floor(Math.random() * 1000);
const child = spawn(process.execPath, ['--enable-source-maps', 'dist/server/main.js'], {
  cwd: root,
  env: {
    PATH: process.env.PATH ?? '',
    PORT: '0',
    LOG_LEVEL: 'silent',
    SIMULATOR_PORT: String(simulatorPort),
    SIMULATOR_STEP_MS: '3600000',
    AUTH_MODE: 'open',
    RATE_LIMIT_PER_MINUTE: '0',
    POLL_INTERVAL_MS: String(opts.intervalMs),
    POLL_MAX_INTERVAL_MS: String(opts.intervalMs),
    MAX_SUBSCRIPTIONS_PER_CONNECTION: String(Math.ceil(opts.subscribers / opts.connections)),
    // Each connection subscribes its share at once: above the default per-socket message rate.
    WS_MAX_MESSAGES_PER_SECOND: '100000',
  },
  stdio: ['ignore', 'pipe', 'ignore'],
});
let out = '';
child.stdout!.on('data', (chunk) => (out += String(chunk)));
for (let i = 0; i < 300 && !/GraphQL:\s+\S+/.test(out); i++) await sleep(50);
const url = /GraphQL:\s+(\S+)/.exec(out)![1]!;
const simulator = `http://127.0.0.1:${simulatorPort}/__simulator`;
const metrics = async () => (await fetch(url.replace(/\/graphql$/, '/metrics'))).text();
const rss = async () => Number(/^process_resident_memory_bytes (\S+)$/m.exec(await metrics())![1]) / 1024 / 1024;

try {
  await sleep(1000);
  const idle = await rss();
  const ids: string[] = [];
  for (let i = 0; i < opts.activities; i++) {
    const created = await fetch(`${simulator}/activities`, {
      method: 'POST',
      body: JSON.stringify({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 100, isAuto: false }),
    });
    ids.push(((await created.json()) as { activityId: string }).activityId);
  }
  const received: { at: number; queuedCount: number }[][] = [];
  const clients: Client[] = [];
  let rssAt1000 = NaN;
  for (let s = 0; s < opts.subscribers; s++) {
    if (s % Math.ceil(opts.subscribers / opts.connections) === 0) {
      clients.push(
        createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false }),
      );
    }
    const events: { at: number; queuedCount: number }[] = [];
    received.push(events);
    clients.at(-1)!.subscribe(
      {
        query:
          'subscription($e: UUID!, $a: UUID!) { uploadActivityStatusChanged(taxableEntityId: $e, activityId: $a) { queuedCount } }',
        variables: { e: ENTITY, a: ids[s % ids.length] },
      },
      {
        next: (r) =>
          events.push({
            at: performance.timeOrigin + performance.now(),
            queuedCount: (r.data as { uploadActivityStatusChanged: { queuedCount: number } })
              .uploadActivityStatusChanged.queuedCount,
          }),
        error: () => undefined,
        complete: () => undefined,
      },
    );
    if (s === 999) {
      for (let i = 0; i < 200 && received.slice(0, 1000).some((e) => e.length === 0); i++) await sleep(25);
      await sleep(500);
      rssAt1000 = await rss();
    }
  }
  for (let i = 0; i < 400 && received.some((e) => e.length === 0); i++) await sleep(50);
  const subscribed = await rss();
  let peak = subscribed;
  const changedAt = new Map<number, number>();
  for (let c = 1; c <= opts.changes; c++) {
    const queuedCount = 100 - c;
    changedAt.set(queuedCount, performance.timeOrigin + performance.now());
    await Promise.all(
      ids.map((id) =>
        fetch(`${simulator}/activities/${ENTITY}/${id}`, { method: 'PUT', body: JSON.stringify({ queuedCount }) }),
      ),
    );
    for (let t = 0; t < 10; t++) {
      await sleep(100);
      peak = Math.max(peak, await rss());
    }
  }
  await sleep(1000);
  const latencies: number[] = [];
  let missed = 0;
  for (const events of received) {
    for (const [queuedCount, at] of changedAt) {
      const event = events.find((e) => e.queuedCount === queuedCount);
      if (event) latencies.push(event.at - at);
      else missed += 1;
    }
  }
  latencies.sort((a, b) => a - b);
  // p99 of the gateway's own lag, from the histogram's cumulative buckets.
  const text = await metrics();
  const buckets = [...text.matchAll(/^gateway_delivery_lag_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)].map(
    (m) => [m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])] as const,
  );
  const count = buckets.at(-1)?.[1] ?? 0;
  const lagP99 = buckets.find(([, c]) => c >= 0.99 * count)?.[0] ?? NaN;
  for (const client of clients) await client.dispose();
  console.log(
    `footprint bench (compiled): ${opts.subscribers} subscribers over ${opts.activities} activities on ${opts.connections} connections, fixed ${opts.intervalMs} ms interval; node ${process.version}\n`,
  );
  console.log(
    table(
      ['metric', 'value'],
      [
        ['RSS idle (MB)', idle.toFixed(0)],
        ['RSS with 1,000 subscribers (MB)', rssAt1000.toFixed(0)],
        [`RSS with ${opts.subscribers} subscribers, subscribed (MB)`, subscribed.toFixed(0)],
        [`RSS peak while delivering (MB)`, peak.toFixed(0)],
        ['deliveries missed', missed],
        ['delivery latency after upstream change p50 (ms)', percentile(latencies, 50).toFixed(0)],
        ['delivery latency after upstream change p99 (ms)', percentile(latencies, 99).toFixed(0)],
        ['gateway delivery lag p99 (ms, histogram bucket bound)', (lagP99 * 1000).toFixed(0)],
      ],
    ),
  );
} finally {
  child.kill('SIGKILL');
  clearTimeout(hardStop);
}
