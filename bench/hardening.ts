/**
 * `npm run bench:hardening`: the attacks and faults of the adversarial pass, measured
 * from outside a gateway process (`src/main.ts` of any checkout, so the same run
 * gives figures before and after a change: `--root /path/to/other/checkout`).
 *
 * The upstream is a hostile fake served by this process. Scenarios:
 *   - bomb: one WebSocket sends 40 distinct ~93 KB documents of 19,000 fragment
 *     spreads. Gateway heap used (from its /metrics) before and after, and the
 *     longest /healthz answer during the attack (event-loop blocking).
 *   - endless: one query whose upstream answer is an endless body. Peak gateway
 *     RSS while it runs (sampled from /metrics every 50 ms), and what the query got.
 *   - aborted: 40 ABORTED answers with 1 MB errorMessages (terminal, cacheable).
 *     Gateway heap used after them.
 *   - starvation: upstream answers in 200 ms, UPSTREAM_MAX_CONCURRENCY=4; caller A
 *     sends 6 requests of 20 ids at once, then caller B one single-id query. B's latency.
 *   - slowkey: 5 subscriptions, one activity answers in 1,900 ms; the other four
 *     change every 400 ms. Delay from an upstream change to the client's event (p50, max).
 *
 * Every scenario is bounded in time and stops by itself. Options: --root <dir>
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { percentile, table } from './harness.js';

const { values } = parseArgs({ options: { root: { type: 'string' } } });
const root = values.root ?? fileURLToPath(new URL('..', import.meta.url));
const ENTITY = '11111111-2222-4333-8444-555555555555';
const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const hardStop = setTimeout(() => {
  console.error('hardening bench did not finish within 240 s');
  process.exit(1);
}, 240_000);

type Handler = (activityId: string, req: IncomingMessage, res: ServerResponse) => void;

async function fakeUpstream(handler: Handler) {
  const server = createServer((req, res) => {
    const match = /upload_activity\/([^/]+)\/status/.exec(req.url ?? '');
    res.on('error', () => undefined);
    handler(match?.[1] ?? '', req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function startGateway(env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'fatal', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += String(chunk)));
  child.stderr!.on('data', (chunk) => (out += String(chunk)));
  for (let i = 0; i < 300 && !/GraphQL:\s+\S+/.test(out); i++) await sleep(50);
  const url = /GraphQL:\s+(\S+)/.exec(out)?.[1];
  if (!url) throw new Error(`gateway did not start:\n${out}`);
  const metric = async (name: string) => {
    const text = await (await fetch(url.replace(/\/graphql$/, '/metrics'))).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  };
  return {
    url,
    metric,
    async stop() {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

const query = (url: string, body: unknown, token = 'bench') =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'X-Cleartax-Auth-Token': token },
    body: JSON.stringify(body),
  }).then((r) => r.json() as Promise<{ data?: unknown; errors?: { extensions?: { code?: string } }[] }>);
const id = (n: number) => `${String(n).padStart(8, '0')}-3333-4444-8555-666666666666`;

async function bomb() {
  const upstream = await fakeUpstream((_id, _req, res) => res.writeHead(200).end('{"status":"INIT"}'));
  const gateway = await startGateway({ CLEARTAX_BASE_URL: upstream.url });
  try {
    await sleep(300);
    const before = await gateway.metric('nodejs_heap_size_used_bytes');
    let longestHealthz = 0;
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const started = performance.now();
        await fetch(gateway.url.replace(/\/graphql$/, '/healthz')).then((r) => r.text());
        longestHealthz = Math.max(longestHealthz, performance.now() - started);
        await sleep(20);
      }
    })();
    const client = createClient({
      url: gateway.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authToken: 'bench' },
    });
    const started = performance.now();
    await Promise.all(
      Array.from(
        { length: 40 },
        (_, i) =>
          new Promise<void>((resolve) =>
            client.subscribe(
              { query: `query Bomb${i} { ${'...F '.repeat(19_000)} } fragment F on Query { __typename }` },
              { next: () => undefined, error: () => resolve(), complete: () => resolve() },
            ),
          ),
      ),
    );
    const attackMs = performance.now() - started;
    probing = false;
    await probe;
    await client.dispose();
    const after = await gateway.metric('nodejs_heap_size_used_bytes');
    return [
      ['bomb: gateway heap used before / after (MB)', `${(before / MB).toFixed(0)} / ${(after / MB).toFixed(0)}`],
      ['bomb: 40 documents answered in (ms)', attackMs.toFixed(0)],
      ['bomb: longest /healthz during the attack (ms)', longestHealthz.toFixed(0)],
    ];
  } finally {
    await gateway.stop();
    await upstream.stop();
  }
}

async function endless() {
  const upstream = await fakeUpstream((_id, _req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, ' ');
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
    };
    res.on('drain', pump);
    pump();
  });
  const gateway = await startGateway({
    CLEARTAX_BASE_URL: upstream.url,
    UPSTREAM_TIMEOUT_MS: '3000',
    UPSTREAM_RETRIES: '0',
  });
  try {
    const before = await gateway.metric('process_resident_memory_bytes');
    let peak = before;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await gateway.metric('process_resident_memory_bytes').catch(() => 0));
        await sleep(50);
      }
    })();
    const started = performance.now();
    const result = await query(gateway.url, {
      query: `{ uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${id(1)}") { status } }`,
    });
    const took = performance.now() - started;
    await sleep(200);
    sampling = false;
    await sampler;
    return [
      ['endless: gateway RSS before / peak (MB)', `${(before / MB).toFixed(0)} / ${(peak / MB).toFixed(0)}`],
      ['endless: the query got', `${result.errors?.[0]?.extensions?.code ?? 'data'} after ${took.toFixed(0)} ms`],
    ];
  } finally {
    await gateway.stop();
    await upstream.stop();
  }
}

async function aborted() {
  const message = 'e'.repeat(MB);
  const upstream = await fakeUpstream((_id, _req, res) =>
    res.writeHead(200).end(JSON.stringify({ status: 'ABORTED', errorMessage: message })),
  );
  const gateway = await startGateway({ CLEARTAX_BASE_URL: upstream.url });
  try {
    const before = await gateway.metric('nodejs_heap_size_used_bytes');
    let codes = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const result = await query(gateway.url, {
        query: `{ uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${id(i)}") { status } }`,
      });
      codes.add(result.errors?.[0]?.extensions?.code ?? 'data');
    }
    await sleep(500);
    const after = await gateway.metric('nodejs_heap_size_used_bytes');
    return [
      [
        'aborted x40 (1 MB messages): gateway heap used before / after (MB)',
        `${(before / MB).toFixed(0)} / ${(after / MB).toFixed(0)}`,
      ],
      ['aborted: answers', [...codes].join(', ')],
    ];
  } finally {
    await gateway.stop();
    await upstream.stop();
  }
}

async function starvation() {
  const upstream = await fakeUpstream(
    (_id, _req, res) => void setTimeout(() => res.writeHead(200).end('{"status":"QUEUED","queuedCount":1}'), 200),
  );
  const gateway = await startGateway({
    CLEARTAX_BASE_URL: upstream.url,
    UPSTREAM_MAX_CONCURRENCY: '4',
    REQUEST_DEADLINE_MS: '60000',
  });
  try {
    const burst = Array.from({ length: 6 }, (_, r) =>
      query(
        gateway.url,
        {
          query: `{ uploadActivities(taxableEntityId: "${ENTITY}", activityIds: [${Array.from({ length: 20 }, (_, i) => `"${id(r * 20 + i)}"`).join(',')}]) { status } }`,
        },
        'caller-a',
      ),
    );
    await sleep(50);
    const started = performance.now();
    await query(
      gateway.url,
      { query: `{ uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${id(999)}") { status } }` },
      'caller-b',
    );
    const latency = performance.now() - started;
    const burstStarted = performance.now();
    await Promise.all(burst);
    return [
      ['starvation: caller B single read while A bursts 120 reads (ms)', latency.toFixed(0)],
      ['starvation: A finished after (ms, from B)', (performance.now() - burstStarted + latency).toFixed(0)],
    ];
  } finally {
    await gateway.stop();
    await upstream.stop();
  }
}

async function slowKey() {
  const state = new Map<string, number>();
  const slow = id(0);
  const upstream = await fakeUpstream((activityId, _req, res) => {
    const answer = () =>
      res.writeHead(200).end(JSON.stringify({ status: 'QUEUED', queuedCount: state.get(activityId) ?? 100 }));
    if (activityId === slow) setTimeout(answer, 1900);
    else answer();
  });
  const gateway = await startGateway({
    CLEARTAX_BASE_URL: upstream.url,
    POLL_INTERVAL_MS: '100',
    POLL_MAX_INTERVAL_MS: '100',
  });
  try {
    const fast = [1, 2, 3, 4].map(id);
    const changedAt = new Map<string, number>();
    const delays: number[] = [];
    const client = createClient({
      url: gateway.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authToken: 'bench' },
    });
    for (const activityId of [slow, ...fast]) {
      client.subscribe(
        {
          query: `subscription { uploadActivityStatusChanged(taxableEntityId: "${ENTITY}", activityId: "${activityId}") { activityId queuedCount } }`,
        },
        {
          next: (result) => {
            const event = (result.data as { uploadActivityStatusChanged: { activityId: string; queuedCount: number } })
              .uploadActivityStatusChanged;
            const at = changedAt.get(`${event.activityId}:${event.queuedCount}`);
            if (at !== undefined) delays.push(performance.now() - at);
          },
          error: () => undefined,
          complete: () => undefined,
        },
      );
    }
    await sleep(2500);
    for (let step = 99; step > 84; step--) {
      for (const activityId of fast) {
        state.set(activityId, step);
        changedAt.set(`${activityId}:${step}`, performance.now());
      }
      await sleep(400);
    }
    await client.dispose();
    delays.sort((a, b) => a - b);
    return [
      [
        'slowkey: delivery delay next to a 1.9 s key, p50 / max (ms)',
        `${percentile(delays, 50).toFixed(0)} / ${(delays.at(-1) ?? NaN).toFixed(0)} (${delays.length} events)`,
      ],
    ];
  } finally {
    await gateway.stop();
    await upstream.stop();
  }
}

console.log(`hardening bench against ${root}; node ${process.version}\n`);
const rows: string[][] = [];
for (const scenario of [bomb, endless, aborted, starvation, slowKey]) {
  try {
    rows.push(...(await scenario()));
  } catch (error) {
    rows.push([scenario.name, `failed: ${(error as Error).message.split('\n')[0]}`]);
  }
}
console.log(table(['measure', 'value'], rows));
clearTimeout(hardStop);
