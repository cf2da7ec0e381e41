/**
 * `npm run bench:hardening2`: the attacks of the second hardening pass, measured from
 * outside a gateway process, so the same run gives figures before and after it. The
 * gateway is `src/main.ts` of a checkout (`--root <dir>`, default this one), started
 * with tsx as a child process and configured through its environment only: a
 * checkout that does not know a variable ignores it. `--root` may be given more than
 * once (e.g. `--root /tmp/before --root .`): each scenario then runs on every root in
 * turn and the table has one column per root.
 *
 * Upstreams (ClearTax and a JWKS) are fakes served by this process on 127.0.0.1.
 * Scenarios (`--only flood,coercion,connections,tokens,jwks` runs some):
 *   - flood: AUTH_MODE=jwt. One WebSocket keeps 20 distinct 190-fragment documents in
 *     flight, an HTTP caller 10, for 8 s; a victim (another `sub`) sends a cached query
 *     every 50 ms and a new short document every 500 ms. Victim latencies; attacker
 *     documents answered and refused. Twice: defaults, then MAX_FRAGMENTS=400 (so
 *     the fair queue, not the fragment limit, meets the flood).
 *   - coercion: 3 requests/s for 6 s, each with 10,000 invalid ids in one variable
 *     (limits raised so both versions accept the request); a victim's cached query
 *     every 50 ms. Victim latencies and the time one flood request takes.
 *   - connections: one address (X-Forwarded-For, TRUST_PROXY=true) opens up to 3,000
 *     WebSockets as fast as it can within 10 s, MAX_CONNECTIONS=2500; then whether a
 *     client from another address can still connect.
 *   - tokens: AUTH_MODE=passthrough, upstream refuses every token but one. One
 *     address sends 3,000 requests with 3,000 invented tokens (50 in flight, 10 s):
 *     upstream calls. A real token from another address: answered? Then 200 invented
 *     tokens from a third address subscribe to one activity for 10 s, each
 *     subscribing again 200 ms after its subscription (or socket) ends: upstream polls.
 *   - jwks: AUTH_MODE=jwt over a JWKS of this process that serves one key, then answers
 *     500, then hangs. A valid RS256 JWT whose kid the gateway never saw: HTTP status,
 *     code and time; WebSocket close code. JWKS fetches caused by 200 (500 phase) and
 *     50 (hang phase) requests with unknown kids.
 *
 * Loopback only; every loop is bounded in count and time; each scenario has a
 * deadline and the whole run a hard stop. Prints one table, one row per measure.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import WebSocket from 'ws';

const SCENARIOS = ['flood', 'coercion', 'connections', 'tokens', 'jwks'] as const;
type ScenarioName = (typeof SCENARIOS)[number];

const { values } = parseArgs({
  options: { root: { type: 'string', multiple: true }, only: { type: 'string' } },
  strict: true,
});
const roots = (values.root?.length ? values.root : [fileURLToPath(new URL('..', import.meta.url))]).map((r) =>
  resolvePath(r),
);
const only = values.only ? values.only.split(',').map((s) => s.trim()) : [...SCENARIOS];
for (const name of only)
  if (!(SCENARIOS as readonly string[]).includes(name))
    throw new Error(`--only: unknown scenario ${name} (one of ${SCENARIOS.join(', ')})`);

const ENTITY = '11111111-2222-4333-8444-555555555555';
const ACTIVITY = '22222222-3333-4444-8555-666666666666';
const REAL_TOKEN = 'the-one-real-token';
const JWT_SECRET = 'bench-hardening2-hs256-secret-0123456789abcdef';
const SCENARIO_DEADLINE_MS = 100_000;
const HARD_STOP_MS = 60_000 + roots.length * only.length * 70_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();
const hardStop = setTimeout(() => {
  console.error(`hardening2 bench did not finish within ${HARD_STOP_MS / 1000} s`);
  for (const stop of running) stop();
  process.exit(1);
}, HARD_STOP_MS);
/** Gateways still running: killed at a hard stop. */
const running = new Set<() => void>();

// ---------------------------------------------------------------- small helpers

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '-');
/** p50 / p99 of latencies; requests that timed out are in the sample at the time they were given up. */
const p50p99 = (values: number[]) =>
  `${ms(percentile(values, 50))} / ${ms(percentile(values, 99))} (n=${values.length})`;

class Tally {
  readonly counts = new Map<string, number>();
  add(key: string, by = 1) {
    this.counts.set(key, (this.counts.get(key) ?? 0) + by);
  }
  get(key: string) {
    return this.counts.get(key) ?? 0;
  }
  get total() {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }
  toString() {
    return (
      [...this.counts]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    );
  }
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function describeRoot(root: string): string {
  try {
    const head = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim();
    return `${root} @ ${head}${dirty ? ' + uncommitted src/' : ''}`;
  } catch {
    return root;
  }
}

const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ');

// ---------------------------------------------------------------- servers of this process

interface Fake {
  url: string;
  server: Server;
  stop(): Promise<void>;
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Fake> {
  const server = createServer((req, res) => {
    res.on('error', () => undefined);
    handler(req, res);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** ClearTax: `PROCESSED` for every activity, or 401 for every token but REAL_TOKEN (`strict`). Counts status reads, per token. */
async function fakeCleartax(strict: boolean) {
  const reads = new Tally();
  const fake = await serve((req, res) => {
    const match = /upload_activity\/([^/?]+)\/status/.exec(req.url ?? '');
    if (!match) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
    const token = String(req.headers['x-cleartax-auth-token'] ?? '');
    reads.add(token);
    if (strict && token !== REAL_TOKEN) {
      return void res
        .writeHead(401, { 'content-type': 'application/json' })
        .end('{"errors":{"err_1":{"code":"401","message":"Unauthorized","error_group_code":0,"error_id":0}}}');
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ activityId: match[1], status: 'PROCESSED', errorMessage: null, queuedCount: 0 }));
  });
  return { ...fake, reads };
}

// ---------------------------------------------------------------- the gateway under test

interface Gateway {
  url: string;
  wsUrl: string;
  /** A gauge or counter from the gateway's /metrics (NaN if absent). */
  metric(name: string): Promise<number>;
  /** Whether the process died by itself (and its last output). */
  crashed(): string | undefined;
  stop(): Promise<void>;
}

async function startGateway(
  root: string,
  env: Record<string, string>,
  cleanups: (() => Promise<void> | void)[],
): Promise<Gateway> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'fatal',
      SIMULATOR_PORT: '0',
      WEB_APP_ENABLED: 'false',
      SANDBOX_ENABLED: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: unknown) => {
    out = (out + String(chunk)).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: number | string | null | undefined;
  let killed = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => ((exited = code ?? signal), resolve())),
  );
  const kill = () => {
    killed = true;
    if (exited === undefined) child.kill('SIGKILL');
  };
  running.add(kill);
  const stop = async () => {
    kill();
    await exit;
    running.delete(kill);
  };
  cleanups.push(stop);
  for (let i = 0; i < 600 && exited === undefined && !/GraphQL:\s+\S+/.test(out); i++) await sleep(50);
  const url = /GraphQL:\s+(\S+)/.exec(out)?.[1];
  if (!url)
    throw new Error(
      `gateway did not start (${exited === undefined ? 'no GraphQL: line in 30 s' : `exit ${exited}`}): ${out.trim().split('\n').slice(-3).join(' ')}`,
    );
  const base = url.replace(/\/graphql$/, '');
  return {
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    async metric(name) {
      try {
        const text = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
        return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      } catch {
        return NaN;
      }
    },
    crashed: () =>
      exited !== undefined && !killed
        ? `gateway exited (${exited}): ${out.trim().split('\n').slice(-2).join(' ')}`
        : undefined,
    stop,
  };
}

// ---------------------------------------------------------------- clients

interface GraphQLAnswer {
  status: number;
  ms: number;
  /** `data` when answered without errors; else the first error's code (or HTTP_<status>, TIMEOUT, NETWORK). */
  outcome: string;
  errors: number;
  bytes: number;
  headers?: Headers;
}

interface Errorish {
  message?: string;
  extensions?: { code?: string };
}

const codeOf = (errors: Errorish[] | undefined) =>
  errors?.[0]?.extensions?.code ?? (errors?.length ? 'NO_CODE' : 'data');

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  timeoutMs = 20_000,
): Promise<GraphQLAnswer> {
  const started = now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    const took = now() - started;
    let json: { data?: unknown; errors?: Errorish[] } = {};
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      return {
        status: response.status,
        ms: took,
        outcome: `HTTP_${response.status}`,
        errors: 0,
        bytes: text.length,
        headers: response.headers,
      };
    }
    return {
      status: response.status,
      ms: took,
      outcome: codeOf(json.errors),
      errors: json.errors?.length ?? 0,
      bytes: text.length,
      headers: response.headers,
    };
  } catch (error) {
    const name = (error as Error).name;
    return {
      status: 0,
      ms: now() - started,
      outcome: name === 'TimeoutError' || name === 'AbortError' ? 'TIMEOUT' : 'NETWORK',
      errors: 0,
      bytes: 0,
    };
  }
}

interface Handlers {
  next?(payload: { data?: unknown; errors?: Errorish[] }): void;
  error?(errors: Errorish[]): void;
  complete?(): void;
}

/** A raw graphql-transport-ws client: one socket, connection_init sent on open. */
class RawSocket {
  readonly socket: WebSocket;
  /** true on connection_ack; false when refused (HTTP status at upgrade, or closed before the ack). */
  readonly ack: Promise<boolean>;
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The HTTP status of a refused upgrade. */
  upgradeStatus: number | undefined;
  isOpen = false;
  private readonly handlers = new Map<string, Handlers>();
  private nextId = 0;

  constructor(url: string, headers: Record<string, string>, initPayload: Record<string, unknown>, timeoutMs = 15_000) {
    this.socket = new WebSocket(url, 'graphql-transport-ws', { headers, handshakeTimeout: timeoutMs });
    let settleAck!: (ok: boolean) => void;
    this.ack = new Promise((resolve) => (settleAck = resolve));
    let settleClosed!: (c: { code: number; reason: string }) => void;
    this.closed = new Promise((resolve) => (settleClosed = resolve));
    const timer = setTimeout(() => {
      settleAck(false);
      this.socket.terminate();
    }, timeoutMs);
    this.socket.on('unexpected-response', (req, res) => {
      this.upgradeStatus = res.statusCode;
      res.resume();
      req.destroy();
      clearTimeout(timer);
      settleAck(false);
      settleClosed({ code: -(res.statusCode ?? 0), reason: `HTTP ${res.statusCode}` });
    });
    this.socket.on('error', () => undefined);
    this.socket.on('open', () => this.socket.send(JSON.stringify({ type: 'connection_init', payload: initPayload })));
    this.socket.on('message', (raw) => {
      let message: { type: string; id?: string; payload?: unknown };
      try {
        message = JSON.parse(String(raw)) as typeof message;
      } catch {
        return;
      }
      if (message.type === 'connection_ack') {
        clearTimeout(timer);
        this.isOpen = true;
        settleAck(true);
      } else if (message.type === 'ping') this.socket.send('{"type":"pong"}');
      else if (message.id !== undefined) {
        const handlers = this.handlers.get(message.id);
        if (!handlers) return;
        if (message.type === 'next') handlers.next?.(message.payload as { data?: unknown; errors?: Errorish[] });
        else if (message.type === 'error') {
          this.handlers.delete(message.id);
          handlers.error?.(message.payload as Errorish[]);
        } else if (message.type === 'complete') {
          this.handlers.delete(message.id);
          handlers.complete?.();
        }
      }
    });
    this.socket.on('close', (code, reason) => {
      clearTimeout(timer);
      this.isOpen = false;
      settleAck(false);
      settleClosed({ code, reason: String(reason) });
      // Operations still running end with the socket.
      const orphans = [...this.handlers.values()];
      this.handlers.clear();
      for (const handlers of orphans) handlers.error?.([{ extensions: { code: 'SOCKET_CLOSED' } }]);
    });
  }

  subscribe(payload: { query: string; variables?: unknown }, handlers: Handlers): void {
    const id = String(++this.nextId);
    this.handlers.set(id, handlers);
    this.socket.send(JSON.stringify({ id, type: 'subscribe', payload }));
  }

  terminate(): void {
    this.socket.terminate();
  }
}

/** Settles when `promise` does or after `ms`, whichever is first. */
const within = <T>(promise: Promise<T>, ms: number): Promise<T | undefined> =>
  Promise.race([promise, sleep(ms).then(() => undefined)]);

const UPLOAD_ACTIVITY =
  'query Read($e: UUID!, $a: UUID!) { uploadActivity(taxableEntityId: $e, activityId: $a) { status } }';

// ---------------------------------------------------------------- 1. CPU flood of documents

const FRAGMENTS = 190;
function fragmentChain(n: number): string {
  const parts = [`query Q${n} { ...F0 }`];
  for (let k = 0; k < FRAGMENTS - 1; k++) parts.push(`fragment F${k} on Query { ...F${k + 1} }`);
  parts.push(`fragment F${FRAGMENTS - 1} on Query { __typename }`);
  return parts.join(' ');
}

const jwtKey = new TextEncoder().encode(JWT_SECRET);
const hsJwt = (sub: string) =>
  new SignJWT({ taxable_entity_ids: '*' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(jwtKey);

async function flood(
  root: string,
  cleanups: (() => Promise<void> | void)[],
  label: string,
  extraEnv: Record<string, string>,
): Promise<string[][]> {
  const upstream = await fakeCleartax(false);
  cleanups.push(upstream.stop);
  const gateway = await startGateway(
    root,
    {
      CLEARTAX_BASE_URL: upstream.url,
      AUTH_MODE: 'jwt',
      AUTH_JWT_SECRET: JWT_SECRET,
      CLEARTAX_AUTH_TOKEN: 'server-token',
      ...extraEnv,
    },
    cleanups,
  );
  const [victimJwt, wsJwt, httpJwt] = await Promise.all([
    hsJwt('victim'),
    hsJwt('attacker-ws'),
    hsJwt('attacker-http'),
  ]);
  const victim = { authorization: `Bearer ${victimJwt}` };
  const cachedBody = JSON.stringify({ query: UPLOAD_ACTIVITY, variables: { e: ENTITY, a: ACTIVITY } });
  // Warm: the document validated, the terminal activity cached.
  for (let i = 0; i < 3; i++) {
    const warm = await post(gateway.url, cachedBody, victim);
    if (warm.outcome !== 'data') throw new Error(`warm-up query answered ${warm.outcome}`);
  }
  const cpuBefore = await gateway.metric('process_cpu_seconds_total');
  const loadAtStart = load();

  const DURATION_MS = 8000;
  const DRAIN_MS = 12_000;
  const started = now();
  const until = started + DURATION_MS;
  let documents = 0;
  const ws = new Tally();
  const http = new Tally();
  const closes = new Tally();

  // Attacker 1: one WebSocket (reconnected 100 ms after the gateway closes it, at most 100 times), 20 documents in flight.
  const wsAttacker = (async () => {
    for (let connection = 0; connection <= 100 && now() < until; connection++) {
      const socket = new RawSocket(gateway.wsUrl, {}, { authorization: `Bearer ${wsJwt}` });
      cleanups.push(() => socket.terminate());
      if (!(await socket.ack)) {
        const closed = await within(socket.closed, 1000);
        closes.add(`refused ${closed?.code ?? '?'}`);
        await sleep(100);
        continue;
      }
      let inFlight = 0;
      let endedByUs = false;
      await new Promise<void>((resolve) => {
        const pump = () => {
          while (socket.isOpen && inFlight < 20 && now() < until) {
            inFlight += 1;
            let outcome = 'no answer';
            const done = () => {
              ws.add(outcome);
              inFlight -= 1;
              pump();
            };
            socket.subscribe(
              { query: fragmentChain(documents++) },
              {
                next: (payload) => (outcome = codeOf(payload.errors)),
                error: (errors) => ((outcome = codeOf(errors)), done()),
                complete: done,
              },
            );
          }
          if (inFlight === 0) resolve();
        };
        void socket.closed.then((c) => {
          if (!endedByUs) closes.add(`closed ${c.code}${c.reason ? ` ${c.reason}` : ''}`);
          resolve();
        });
        pump();
      });
      if (socket.isOpen) {
        endedByUs = true;
        socket.terminate();
        break;
      }
      await sleep(100);
    }
  })();

  // Attacker 2: HTTP, 10 documents in flight.
  const httpAttacker = Promise.all(
    Array.from({ length: 10 }, async () => {
      while (now() < until) {
        const answer = await post(
          gateway.url,
          { query: fragmentChain(documents++) },
          { authorization: `Bearer ${httpJwt}` },
        );
        http.add(answer.outcome);
      }
    }),
  );

  // Victim: the cached query every 50 ms, a new document every 500 ms (open loop: sent on time whatever the answers).
  const cached: number[] = [];
  const fresh: number[] = [];
  const victimOutcomes = new Tally();
  const sent: Promise<void>[] = [];
  const schedule = async (everyMs: number, count: number, send: (k: number) => Promise<void>) => {
    for (let k = 0; k < count && now() < until; k++) {
      await sleep(Math.max(0, started + k * everyMs - now()));
      sent.push(send(k));
    }
  };
  await Promise.all([
    schedule(50, Math.floor(DURATION_MS / 50), async () => {
      const answer = await post(gateway.url, cachedBody, victim);
      victimOutcomes.add(`cached ${answer.outcome}`);
      if (answer.outcome === 'data' || answer.outcome === 'TIMEOUT') cached.push(answer.ms);
    }),
    schedule(500, Math.floor(DURATION_MS / 500), async (k) => {
      const answer = await post(gateway.url, { query: `query VictimNew${k} { __typename }` }, victim);
      victimOutcomes.add(`new ${answer.outcome}`);
      if (answer.outcome === 'data' || answer.outcome === 'TIMEOUT') fresh.push(answer.ms);
    }),
  ]);
  await within(Promise.all([wsAttacker, httpAttacker, ...sent]), DRAIN_MS);
  const cpuAfter = await gateway.metric('process_cpu_seconds_total');
  const crash = gateway.crashed();
  const refused = (t: Tally) => t.get('RATE_LIMITED') + t.get('BAD_USER_INPUT');
  const attackers = (t: Tally) =>
    `answered ${t.get('data')}, refused ${refused(t)} (RATE_LIMITED ${t.get('RATE_LIMITED')}, BAD_USER_INPUT ${t.get('BAD_USER_INPUT')}), other ${t.total - t.get('data') - refused(t)}`;
  const otherOf = (t: Tally) =>
    [...t.counts]
      .filter(([k]) => !['data', 'RATE_LIMITED', 'BAD_USER_INPUT'].includes(k))
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  const p = `1. flood ${label}:`;
  return [
    [`${p} load average at start (1/5/15 min)`, loadAtStart],
    [`${p} victim cached query p50 / p99 (ms)`, p50p99(cached)],
    [
      `${p} victim new document p50 / worst (ms)`,
      `${ms(percentile(fresh, 50))} / ${ms(Math.max(...fresh))} (n=${fresh.length})`,
    ],
    [`${p} victim answers`, victimOutcomes.toString()],
    [`${p} WebSocket attacker documents`, attackers(ws) + (otherOf(ws) ? ` [${otherOf(ws)}]` : '')],
    [`${p} WebSocket attacker: sockets the gateway closed`, closes.toString()],
    [`${p} HTTP attacker documents`, attackers(http) + (otherOf(http) ? ` [${otherOf(http)}]` : '')],
    [
      `${p} gateway CPU during the flood (s)`,
      Number.isFinite(cpuAfter - cpuBefore) ? (cpuAfter - cpuBefore).toFixed(1) : '-',
    ],
    ...(crash ? [[`${p} gateway`, crash]] : []),
  ];
}

// ---------------------------------------------------------------- 2. coercion flood

async function coercion(root: string, cleanups: (() => Promise<void> | void)[]): Promise<string[][]> {
  const upstream = await fakeCleartax(false);
  cleanups.push(upstream.stop);
  const gateway = await startGateway(
    root,
    {
      CLEARTAX_BASE_URL: upstream.url,
      AUTH_MODE: 'passthrough',
      MAX_ACTIVITY_IDS: '10000',
      MAX_OPERATION_IDS: '100000',
      MAX_BODY_BYTES: '1048576',
    },
    cleanups,
  );
  const victim = { 'x-cleartax-auth-token': REAL_TOKEN };
  const cachedBody = JSON.stringify({ query: UPLOAD_ACTIVITY, variables: { e: ENTITY, a: ACTIVITY } });
  for (let i = 0; i < 3; i++) {
    const warm = await post(gateway.url, cachedBody, victim);
    if (warm.outcome !== 'data') throw new Error(`warm-up query answered ${warm.outcome}`);
  }
  const floodBody = JSON.stringify({
    query:
      'query Flood($e: UUID!, $ids: [UUID!]!) { uploadActivities(taxableEntityId: $e, activityIds: $ids) { status } }',
    variables: { e: ENTITY, ids: Array.from({ length: 10_000 }, (_, i) => `not-a-uuid-${String(i).padStart(5, '0')}`) },
  });
  // The flood's document validated once beforehand, so what is measured is the variables.
  await post(gateway.url, floodBody, { 'x-cleartax-auth-token': 'flood-token' }, 60_000);
  const cpuBefore = await gateway.metric('process_cpu_seconds_total');
  const loadAtStart = load();
  const DURATION_MS = 6000;
  const started = now();
  const until = started + DURATION_MS;
  const floodAnswers: GraphQLAnswer[] = [];
  const cached: number[] = [];
  const victimOutcomes = new Tally();
  const sent: Promise<void>[] = [];
  const schedule = async (everyMs: number, count: number, send: () => Promise<void>) => {
    for (let k = 0; k < count && now() < until; k++) {
      await sleep(Math.max(0, started + k * everyMs - now()));
      sent.push(send());
    }
  };
  await Promise.all([
    schedule(
      1000 / 3,
      18,
      async () =>
        void floodAnswers.push(await post(gateway.url, floodBody, { 'x-cleartax-auth-token': 'flood-token' }, 60_000)),
    ),
    schedule(50, DURATION_MS / 50, async () => {
      const answer = await post(gateway.url, cachedBody, victim, 40_000);
      victimOutcomes.add(answer.outcome);
      if (answer.outcome === 'data' || answer.outcome === 'TIMEOUT') cached.push(answer.ms);
    }),
  ]);
  await within(Promise.all(sent), 45_000);
  const cpuAfter = await gateway.metric('process_cpu_seconds_total');
  const floodMs = floodAnswers.map((a) => a.ms);
  const outcomes = new Tally();
  for (const a of floodAnswers) outcomes.add(`${a.outcome} (${a.errors} errors, ${(a.bytes / 1024).toFixed(0)} KB)`);
  const crash = gateway.crashed();
  return [
    ['2. coercion: load average at start (1/5/15 min)', loadAtStart],
    ['2. coercion: victim cached query p50 / p99 (ms)', p50p99(cached)],
    ['2. coercion: victim answers', victimOutcomes.toString()],
    [
      '2. coercion: one flood request (10,000 invalid ids) p50 / max (ms)',
      `${ms(percentile(floodMs, 50))} / ${ms(Math.max(...floodMs))} (n=${floodMs.length})`,
    ],
    ['2. coercion: flood answers', outcomes.toString()],
    [
      '2. coercion: gateway CPU during the flood (s)',
      Number.isFinite(cpuAfter - cpuBefore) ? (cpuAfter - cpuBefore).toFixed(1) : '-',
    ],
    ...(crash ? [['2. coercion: gateway', crash]] : []),
  ];
}

// ---------------------------------------------------------------- 3. connections from one address

async function connections(root: string, cleanups: (() => Promise<void> | void)[]): Promise<string[][]> {
  const upstream = await fakeCleartax(false);
  cleanups.push(upstream.stop);
  const gateway = await startGateway(
    root,
    {
      CLEARTAX_BASE_URL: upstream.url,
      AUTH_MODE: 'open',
      CLEARTAX_AUTH_TOKEN: 'server-token',
      TRUST_PROXY: 'true',
      MAX_CONNECTIONS: '2500',
    },
    cleanups,
  );
  const loadAtStart = load();
  const attacker = { 'x-forwarded-for': '203.0.113.66' };
  const sockets: RawSocket[] = [];
  cleanups.push(() => sockets.forEach((s) => s.terminate()));
  const outcomes = new Tally();
  const MAX = 3000;
  const started = now();
  const until = started + 10_000;
  let attempts = 0;
  await Promise.all(
    Array.from({ length: 100 }, async () => {
      while (attempts < MAX && now() < until) {
        attempts += 1;
        const socket = new RawSocket(gateway.wsUrl, attacker, {}, 10_000);
        sockets.push(socket);
        if (await socket.ack) outcomes.add('accepted');
        else {
          const closed = await within(socket.closed, 1000);
          outcomes.add(socket.upgradeStatus ? `HTTP ${socket.upgradeStatus}` : `closed ${closed?.code ?? 'timeout'}`);
        }
      }
    }),
  );
  const took = now() - started;
  await sleep(300);
  const stillOpen = sockets.filter((s) => s.isOpen).length;
  const tryOne = async (headers: Record<string, string>) => {
    const socket = new RawSocket(gateway.wsUrl, headers, {}, 10_000);
    sockets.push(socket);
    const t0 = now();
    if (await socket.ack) return `connected (ack in ${ms(now() - t0)} ms)`;
    const closed = await within(socket.closed, 1000);
    return socket.upgradeStatus
      ? `refused: HTTP ${socket.upgradeStatus}`
      : `refused: closed ${closed?.code ?? '?'} ${closed?.reason ?? ''}`;
  };
  const second = await tryOne({ 'x-forwarded-for': '198.51.100.4' });
  const again = await tryOne(attacker);
  const crash = gateway.crashed();
  return [
    ['3. connections: load average at start (1/5/15 min)', loadAtStart],
    [
      '3. connections: attacker attempts / accepted (connection_ack) / time (ms)',
      `${attempts} / ${outcomes.get('accepted')} / ${ms(took)}`,
    ],
    ['3. connections: attacker outcomes', outcomes.toString()],
    ['3. connections: attacker sockets still open 300 ms later', String(stillOpen)],
    ['3. connections: second client (another X-Forwarded-For)', second],
    ['3. connections: the attacker once more', again],
    ...(crash ? [['3. connections: gateway', crash]] : []),
  ];
}

// ---------------------------------------------------------------- 4. invented tokens

async function tokens(root: string, cleanups: (() => Promise<void> | void)[]): Promise<string[][]> {
  const upstream = await fakeCleartax(true);
  cleanups.push(upstream.stop);
  const gateway = await startGateway(
    root,
    { CLEARTAX_BASE_URL: upstream.url, AUTH_MODE: 'passthrough', TRUST_PROXY: 'true' },
    cleanups,
  );
  const loadAtStart = load();
  const body = JSON.stringify({ query: UPLOAD_ACTIVITY, variables: { e: ENTITY, a: ACTIVITY } });
  // Phase 1: 3,000 requests, 3,000 invented tokens, one address, 50 in flight, 10 s at most.
  const answers = new Tally();
  let sentCount = 0;
  const readsBefore = upstream.reads.total;
  const started = now();
  const until = started + 10_000;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (sentCount < 3000 && now() < until) {
        const i = sentCount++;
        answers.add(
          (
            await post(gateway.url, body, {
              'x-cleartax-auth-token': `invented-${i}`,
              'x-forwarded-for': '203.0.113.66',
            })
          ).outcome,
        );
      }
    }),
  );
  const phase1Ms = now() - started;
  const phase1Reads = upstream.reads.total - readsBefore;
  // A real token from another address.
  const real = await post(gateway.url, body, {
    'x-cleartax-auth-token': REAL_TOKEN,
    'x-forwarded-for': '198.51.100.4',
  });

  // Phase 2: 200 invented tokens from a third address subscribe to one activity for 10 s; each subscribes again 200 ms after its subscription (or socket) ends.
  const readsAt2 = new Map(upstream.reads.counts);
  const subOutcomes = new Tally();
  const socketEnds = new Tally();
  let subscribes = 0;
  const until2 = now() + 10_000;
  const subscription = `subscription Watch($e: UUID!, $a: UUID!) { uploadActivityStatusChanged(taxableEntityId: $e, activityId: $a) { status } }`;
  await Promise.all(
    Array.from({ length: 200 }, async (_, i) => {
      const token = `sub-invented-${i}`;
      for (let connection = 0; connection < 100 && now() < until2; connection++) {
        const socket = new RawSocket(gateway.wsUrl, { 'x-forwarded-for': '192.0.2.77' }, { authToken: token }, 10_000);
        cleanups.push(() => socket.terminate());
        if (!(await socket.ack)) {
          const closed = await within(socket.closed, 1000);
          socketEnds.add(
            socket.upgradeStatus ? `HTTP ${socket.upgradeStatus}` : `closed ${closed?.code ?? '?'} at init`,
          );
          await sleep(200);
          continue;
        }
        while (socket.isOpen && now() < until2) {
          subscribes += 1;
          const outcome = await within(
            new Promise<string>((resolve) => {
              let seen = 'complete without event';
              socket.subscribe(
                { query: subscription, variables: { e: ENTITY, a: ACTIVITY } },
                {
                  next: (payload) => (seen = codeOf(payload.errors)),
                  error: (errors) => resolve(codeOf(errors)),
                  complete: () => resolve(seen),
                },
              );
            }),
            Math.max(0, until2 - now()),
          );
          subOutcomes.add(outcome ?? 'still open at the end');
          if (outcome === undefined) break;
          await sleep(200);
        }
        if (socket.isOpen) {
          socket.terminate();
          break;
        }
        const closed = await within(socket.closed, 1000);
        socketEnds.add(`closed ${closed?.code ?? '?'} after init`);
        await sleep(200);
      }
    }),
  );
  await sleep(200);
  let phase2Reads = 0;
  let phase2Tokens = 0;
  let mostByOneToken = 0;
  for (const [token, n] of upstream.reads.counts) {
    const extra = n - (readsAt2.get(token) ?? 0);
    if (token.startsWith('sub-invented-') && extra > 0) {
      phase2Reads += extra;
      phase2Tokens += 1;
      mostByOneToken = Math.max(mostByOneToken, extra);
    }
  }
  const crash = gateway.crashed();
  return [
    ['4. tokens: load average at start (1/5/15 min)', loadAtStart],
    ['4. tokens: 3,000 invented tokens (one address): requests sent / time (ms)', `${sentCount} / ${ms(phase1Ms)}`],
    ['4. tokens: upstream calls they caused', String(phase1Reads)],
    ['4. tokens: their answers', answers.toString()],
    [
      '4. tokens: real token from another address',
      real.outcome === 'data' ? `answered (data) in ${ms(real.ms)} ms` : `${real.outcome} (HTTP ${real.status})`,
    ],
    [
      '4. tokens: 200 invented subscribers, 10 s: subscribes / upstream polls / tokens that reached upstream',
      `${subscribes} / ${phase2Reads} / ${phase2Tokens}`,
    ],
    [
      '4. tokens: most polls caused by one invented token (its socket stays open and subscribes again)',
      String(mostByOneToken),
    ],
    ['4. tokens: subscription outcomes', subOutcomes.toString()],
    ['4. tokens: subscriber socket ends', socketEnds.toString()],
    ...(crash ? [['4. tokens: gateway', crash]] : []),
  ];
}

// ---------------------------------------------------------------- 5. JWKS outage

async function jwks(root: string, cleanups: (() => Promise<void> | void)[]): Promise<string[][]> {
  const known = await generateKeyPair('RS256', { extractable: true });
  const unseen = await generateKeyPair('RS256', { extractable: true });
  const knownJwk = { ...(await exportJWK(known.publicKey)), kid: 'known', alg: 'RS256', use: 'sig' };
  let mode: 'ok' | '500' | 'hang' = 'ok';
  const fetches = new Tally();
  const jwksServer = await serve((_req, res) => {
    fetches.add(mode);
    if (mode === 'ok')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [knownJwk] }));
    if (mode === '500') return void res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
    // hang: never answer (the connection is cut when the server stops).
  });
  cleanups.push(jwksServer.stop);
  const upstream = await fakeCleartax(false);
  cleanups.push(upstream.stop);
  const gateway = await startGateway(
    root,
    {
      CLEARTAX_BASE_URL: upstream.url,
      AUTH_MODE: 'jwt',
      AUTH_JWKS_URL: `${jwksServer.url}/.well-known/jwks.json`,
      CLEARTAX_AUTH_TOKEN: 'server-token',
    },
    cleanups,
  );
  const loadAtStart = load();
  const rsJwt = (key: CryptoKey, kid: string, sub: string) =>
    new SignJWT({ taxable_entity_ids: '*' })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime('15m')
      .sign(key);
  const body = JSON.stringify({ query: UPLOAD_ACTIVITY, variables: { e: ENTITY, a: ACTIVITY } });
  const httpWith = async (jwt: string) => {
    const answer = await post(gateway.url, body, { authorization: `Bearer ${jwt}` }, 30_000);
    const retryAfter = answer.headers?.get('retry-after');
    return `HTTP ${answer.status}, ${answer.outcome}${retryAfter ? `, Retry-After ${retryAfter}` : ''}, ${ms(answer.ms)} ms`;
  };
  const wsWith = async (jwt: string) => {
    const t0 = now();
    const socket = new RawSocket(gateway.wsUrl, {}, { authorization: `Bearer ${jwt}` }, 30_000);
    cleanups.push(() => socket.terminate());
    if (await socket.ack) {
      socket.terminate();
      return `accepted (ack in ${ms(now() - t0)} ms)`;
    }
    const closed = await within(socket.closed, 2000);
    return `close ${closed?.code ?? '?'} "${closed?.reason ?? ''}" after ${ms(now() - t0)} ms`;
  };
  const manyUnknown = async (count: number, concurrency: number) => {
    const jwts = await Promise.all(
      Array.from({ length: count }, (_, i) => rsJwt(unseen.privateKey, `unknown-${mode}-${i}`, `unknown-${i}`)),
    );
    const before = fetches.total;
    const outcomes = new Tally();
    const t0 = now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < jwts.length) {
          const answer = await post(gateway.url, body, { authorization: `Bearer ${jwts[next++]!}` }, 30_000);
          outcomes.add(`HTTP ${answer.status} ${answer.outcome}`);
        }
      }),
    );
    return `${fetches.total - before} JWKS fetches in ${ms(now() - t0)} ms; answers: ${outcomes}`;
  };

  // The key set is read once while the JWKS is up.
  const warm = await httpWith(await rsJwt(known.privateKey, 'known', 'warm'));
  const unseenJwt = await rsJwt(unseen.privateKey, 'rotated-in', 'victim');
  // 500: past the refetch cooldown (2 s in both versions), a kid never seen.
  mode = '500';
  await sleep(2200);
  const http500 = await httpWith(unseenJwt);
  const ws500 = await wsWith(unseenJwt);
  const many500 = await manyUnknown(200, 20);
  const known500 = await httpWith(await rsJwt(known.privateKey, 'known', 'cached-key'));
  // Hang: the JWKS accepts the connection and never answers.
  mode = 'hang';
  await sleep(2200);
  const httpHang = await httpWith(unseenJwt);
  const wsHang = await wsWith(unseenJwt);
  const manyHang = await manyUnknown(50, 50);
  const crash = gateway.crashed();
  return [
    ['5. jwks: load average at start (1/5/15 min)', loadAtStart],
    ['5. jwks: warm-up with the served key (JWKS up)', warm],
    ['5. jwks 500: HTTP, valid JWT with an unseen kid', http500],
    ['5. jwks 500: WebSocket, same JWT', ws500],
    ['5. jwks 500: 200 requests with unknown kids (20 in flight)', many500],
    ['5. jwks 500: JWT with the cached kid', known500],
    ['5. jwks hang: HTTP, valid JWT with an unseen kid', httpHang],
    ['5. jwks hang: WebSocket, same JWT', wsHang],
    ['5. jwks hang: 50 requests with unknown kids (all at once)', manyHang],
    ['5. jwks: JWKS fetches in all, by JWKS state', fetches.toString()],
    ...(crash ? [['5. jwks: gateway', crash]] : []),
  ];
}

// ---------------------------------------------------------------- run

type Scenario = (root: string, cleanups: (() => Promise<void> | void)[]) => Promise<string[][]>;
const scenarios: Record<ScenarioName, Scenario[]> = {
  flood: [
    (root, c) => flood(root, c, '(defaults)', {}),
    (root, c) => flood(root, c, '(MAX_FRAGMENTS=400)', { MAX_FRAGMENTS: '400' }),
  ],
  coercion: [coercion],
  connections: [connections],
  tokens: [tokens],
  jwks: [jwks],
};

async function runOne(scenario: Scenario, root: string, name: string): Promise<string[][]> {
  const cleanups: (() => Promise<void> | void)[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      scenario(root, cleanups),
      new Promise<never>(
        (_, reject) =>
          (timer = setTimeout(
            () => reject(new Error(`did not finish within ${SCENARIO_DEADLINE_MS / 1000} s`)),
            SCENARIO_DEADLINE_MS,
          )),
      ),
    ]);
  } catch (error) {
    return [[`${name}: failed`, (error as Error).message.split('\n')[0]!.slice(0, 300)]];
  } finally {
    clearTimeout(timer);
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  }
}

const labels = roots.map(describeRoot);
console.log(`hardening2 bench; node ${process.version}; load average at start ${load()}`);
for (const [i, label] of labels.entries()) console.log(`  root ${i + 1}: ${label}`);
console.log('');
const rows = new Map<string, string[]>();
for (const name of only as ScenarioName[]) {
  for (const scenario of scenarios[name]) {
    for (const [i, root] of roots.entries()) {
      const started = now();
      const result = await runOne(scenario, root, name);
      console.error(`  ${name} on root ${i + 1}: ${ms((now() - started) / 1000)} s`);
      for (const [measure, value] of result) {
        const row = rows.get(measure!) ?? roots.map(() => 'n/a');
        row[i] = value!;
        rows.set(measure!, row);
      }
    }
  }
}
console.log(
  table(
    ['measure', ...labels],
    [...rows].map(([measure, cells]) => [measure, ...cells]),
  ),
);
clearTimeout(hardStop);
process.exit(0);
