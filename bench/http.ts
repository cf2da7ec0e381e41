/**
 * `npm run bench:http`: the gateway's HTTP throughput against the framework's own
 * ceiling, in one run. autocannon drives, in turn: the compiled gateway
 * (dist/server/main.js, `npm run build` first) in front of the simulator with every
 * activity terminal and cached; and a bare Apollo Server 5 on express 5 with the
 * same SDL answering a constant (bench/bare-apollo.ts). Both run as child processes.
 * Queries ask for 1 id and for 20 ids. Prints req/s, p50, p99 and the ratio.
 *
 * Options: --connections 32 --seconds 8; --log info runs the gateway with LOG_LEVEL=info
 * (its output drained), and --access-log false turns the access log off, so the
 * access log's cost is the difference between `--log info` and
 * `--log info --access-log false`.
 *
 * --tracing runs the gateway with OpenTelemetry on (OTEL_EXPORTER_OTLP_ENDPOINT at a
 * sink in this process that accepts and discards OTLP/HTTP, default protocol, every
 * span sampled), so its cost is the difference between a run with and one without.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { createSimulator } from '../src/simulator/server.js';
import { ENTITY, table } from './harness.js';

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '8' },
    log: { type: 'string', default: 'silent' },
    'access-log': { type: 'string', default: 'true' },
    tracing: { type: 'boolean', default: false },
  },
  strict: true,
});
const opts = { connections: Number(args.connections), seconds: Number(args.seconds) };
const logLevel = args.log;
const accessLog = args['access-log'];
const root = fileURLToPath(new URL('..', import.meta.url));
const hardStop = setTimeout(() => {
  console.error('http bench did not finish within 180 s');
  process.exit(1);
}, 180_000);

async function child(
  args: string[],
  env: Record<string, string>,
  pattern: RegExp,
): Promise<{ url: string; process: ChildProcess }> {
  const proc = spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (chunk) => (out += String(chunk)));
  proc.stderr!.on('data', (chunk) => (out += String(chunk)));
  for (let i = 0; i < 300 && !pattern.test(out); i++) await new Promise((r) => setTimeout(r, 50));
  const url = pattern.exec(out)?.[1];
  if (!url) throw new Error(`child did not start:\n${out}`);
  // From here on its output is drained, not kept (log lines under load).
  for (const stream of [proc.stdout!, proc.stderr!]) {
    stream.removeAllListeners('data');
    stream.resume();
  }
  return { url, process: proc };
}

function run(url: string, body: string): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    connections: opts.connections,
    duration: opts.seconds,
    headers: { 'content-type': 'application/json', 'x-cleartax-auth-token': 'bench' },
    body,
  });
}

/** An OTLP/HTTP receiver that accepts and discards: what the exporter costs, not a collector. */
const sink = { requests: 0, bytes: 0 };
const sinkServer = createServer((req, res) => {
  req.on('data', (chunk: Buffer) => (sink.bytes += chunk.length));
  req.on('end', () => {
    sink.requests += 1;
    res.writeHead(200).end();
  });
});
if (args.tracing) await new Promise<void>((resolve) => sinkServer.listen(0, '127.0.0.1', resolve));
const tracingEnv: Record<string, string> = args.tracing
  ? { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(sinkServer.address() as AddressInfo).port}` }
  : {};

const simulator = createSimulator({ stepMs: 0 });
const upstream = await simulator.start();
const ids = Array.from(
  { length: 20 },
  () => simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED', isAuto: false }).activityId,
);
const one = JSON.stringify({
  query:
    'query($e: UUID!, $a: UUID!) { uploadActivity(taxableEntityId: $e, activityId: $a) { id status queuedCount isTerminal fetchedAt } }',
  variables: { e: ENTITY, a: ids[0] },
});
const twenty = JSON.stringify({
  query:
    'query($e: UUID!, $ids: [UUID!]!) { uploadActivities(taxableEntityId: $e, activityIds: $ids) { id status queuedCount isTerminal fetchedAt } }',
  variables: { e: ENTITY, ids },
});

const gateway = await child(
  ['--enable-source-maps', 'dist/server/main.js'],
  {
    PORT: '0',
    LOG_LEVEL: logLevel,
    ACCESS_LOG: accessLog,
    CLEARTAX_BASE_URL: upstream,
    AUTH_MODE: 'passthrough',
    RATE_LIMIT_PER_MINUTE: '0',
    WEB_APP_ENABLED: 'false',
    SANDBOX_ENABLED: 'false',
    ...tracingEnv,
  },
  /GraphQL:\s+(\S+)/,
);
const bare = await child(['--import', 'tsx', 'bench/bare-apollo.ts'], {}, /BARE (\S+)/);
try {
  // Warm both (and fill the gateway's terminal cache).
  await run(gateway.url, twenty).then(() => run(bare.url, twenty));
  const rows: (string | number)[][] = [];
  for (const [name, body] of [
    ['1 id', one],
    ['20 ids', twenty],
  ] as const) {
    const g = await run(gateway.url, body);
    const b = await run(bare.url, body);
    if (g.non2xx || b.non2xx) throw new Error(`non-2xx answers: gateway ${g.non2xx}, bare ${b.non2xx}`);
    rows.push([
      name,
      Math.round(g.requests.average),
      g.latency.p50,
      g.latency.p99,
      Math.round(b.requests.average),
      b.latency.p50,
      b.latency.p99,
      (g.requests.average / b.requests.average).toFixed(2),
    ]);
  }
  console.log(
    `http bench: ${opts.connections} connections, ${opts.seconds} s per run, terminal activities cached, LOG_LEVEL=${logLevel} ACCESS_LOG=${accessLog} tracing ${args.tracing ? `on (${sink.requests} OTLP posts, ${(sink.bytes / 1e6).toFixed(1)} MB to the sink)` : 'off'}; node ${process.version}\n`,
  );
  console.log(
    table(['query', 'gateway req/s', 'p50 ms', 'p99 ms', 'bare Apollo req/s', 'p50 ms', 'p99 ms', 'ratio'], rows),
  );
} finally {
  gateway.process.kill('SIGKILL');
  bare.process.kill('SIGKILL');
  await simulator.stop();
  sinkServer.close();
  clearTimeout(hardStop);
}
