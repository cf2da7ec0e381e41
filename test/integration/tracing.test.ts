import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { UploadActivityStatusChangedDocument } from '../../schema/generated/graphql.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { ENTITY } from '../helpers/stack.js';
import { connect, record } from '../helpers/ws-client.js';

/**
 * Tracing (the contract's "Tracing (OpenTelemetry)") against a real OTLP/HTTP
 * receiver (JSON bodies) and the compiled gateway in a child process: the SDK must
 * start before express, graphql and pino load, which an in-process app cannot show.
 * The upstream is a bare fake that records the `traceparent` each read carries.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Preloaded into the gateway: on exit, prints the @opentelemetry packages it loaded
 * (all are CommonJS, so all are in the require cache), each with the module that
 * first required it from outside @opentelemetry.
 */
const MODULE_PROBE = `data:text/javascript,${encodeURIComponent(`
import { createRequire } from 'node:module';
const packageOf = (file) => file.split('/node_modules/').pop().split('/').slice(0, 2).join('/');
process.on('exit', () => {
  const loaded = {};
  for (const [file, module] of Object.entries(createRequire(process.cwd() + '/').cache)) {
    if (!file.includes('/node_modules/@opentelemetry/')) continue;
    const by = module.parent?.id ?? '';
    loaded[packageOf(file)] ??= '';
    if (!by.includes('/@opentelemetry/')) loaded[packageOf(file)] = by.split('/node_modules/').pop();
  }
  console.error('OTEL_MODULES_LOADED=' + JSON.stringify(loaded));
});`)}`;

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  durationMs: number;
  startMs: number;
  service: unknown;
}

const SERVER = 2;
const CLIENT = 3;

type OtlpValue = {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
};
type OtlpAttribute = { key: string; value: OtlpValue };

function valueOf(value: OtlpValue): unknown {
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(valueOf);
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.boolValue;
}
const attributesOf = (list: OtlpAttribute[] = []) => Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));
const ms = (nanos: string | number) => Number(BigInt(String(nanos)) / 1000n) / 1000;

/** A real OTLP/HTTP receiver (`http/json`) on 127.0.0.1, keeping every span it is sent. */
async function startReceiver() {
  const spans: Span[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk) => (body += String(chunk)));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        const payload = JSON.parse(body) as {
          resourceSpans: {
            resource: { attributes: OtlpAttribute[] };
            scopeSpans: {
              spans: {
                traceId: string;
                spanId: string;
                parentSpanId?: string;
                name: string;
                kind: number;
                attributes?: OtlpAttribute[];
                links?: { traceId: string; spanId: string }[];
                startTimeUnixNano: string;
                endTimeUnixNano: string;
              }[];
            }[];
          }[];
        };
        for (const resourceSpans of payload.resourceSpans) {
          const service = attributesOf(resourceSpans.resource.attributes)['service.name'];
          for (const scope of resourceSpans.scopeSpans)
            for (const s of scope.spans)
              spans.push({
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId ?? '',
                name: s.name,
                kind: s.kind,
                attributes: attributesOf(s.attributes),
                links: (s.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })),
                startMs: ms(s.startTimeUnixNano),
                durationMs: ms(s.endTimeUnixNano) - ms(s.startTimeUnixNano),
                service,
              });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans };
}

/**
 * ClearTax as a script: each activity answers its list of statuses in turn (the last
 * one for ever); MISSING answers 404. Every request is recorded with its headers.
 */
const MISSING = '00000000-0000-4000-8000-000000000404';
async function startScriptedUpstream(script: Record<string, string[]>) {
  const served = new Map<string, number>();
  return startFakeUpstream((req, res) => {
    const activityId = /upload_activity\/([^/]+)\/status/.exec(req.url ?? '')?.[1] ?? '';
    const statuses = script[activityId];
    if (activityId === FAILING) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: { err_1: { code: '500', message: 'Down' } } }));
      return;
    }
    if (!statuses) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: { err_1: { code: '404', message: 'No such activity' } } }));
      return;
    }
    const n = served.get(activityId) ?? 0;
    served.set(activityId, n + 1);
    const status = statuses[Math.min(n, statuses.length - 1)]!;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status, queuedCount: status === 'QUEUED' ? 1 : 0 }));
  });
}

/** The compiled gateway (built by the test set-up), as `npm start` runs it, with the module probe preloaded. */
function startGateway(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', MODULE_PROBE, '--enable-source-maps', 'dist/server/main.js'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      LOG_LEVEL: 'info',
      WEB_APP_ENABLED: 'false',
      SANDBOX_ENABLED: 'false',
      SHUTDOWN_NOTICE_MS: '0',
      SHUTDOWN_GRACE_MS: '2000',
      POLL_INTERVAL_MS: '50',
      POLL_MAX_INTERVAL_MS: '100',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onTestFinished(() => void (child.exitCode === null && child.kill('SIGKILL')));
  let out = '';
  child.stdout.on('data', (chunk) => (out += String(chunk)));
  child.stderr.on('data', (chunk) => (out += String(chunk)));
  const output = () => out;
  return {
    child,
    output,
    async url(): Promise<string> {
      await expect.poll(output, { timeout: 15_000, interval: 50 }).toMatch(/GraphQL:\s+\S+/);
      return /GraphQL:\s+(\S+)/.exec(out)![1]!;
    },
    /** JSON log lines. */
    logs: () =>
      out
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    /** SIGTERM; resolves to the exit code and the @opentelemetry packages the process had loaded (→ who required them). */
    async stop(): Promise<{ code: number; otelModules: Record<string, string> }> {
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      return {
        code,
        otelModules: JSON.parse(/OTEL_MODULES_LOADED=(.*)/.exec(out)?.[1] ?? 'null') as Record<string, string>,
      };
    },
  };
}

function query(url: string, activityId: string, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'X-Cleartax-Auth-Token': 'tracing-token', ...headers },
    body: JSON.stringify({
      query:
        'query TracedLookup($e: UUID!, $a: UUID!) { uploadActivity(taxableEntityId: $e, activityId: $a) { status } }',
      variables: { e: ENTITY, a: activityId },
    }),
  });
}

/** The activities a span is about. */
const idsOf = (span: Span) => (span.attributes['upload_status.activity_ids'] as string[] | undefined) ?? [];

/** The span id an upstream request's `traceparent` names. */
const parentIdOf = (traceparent: unknown) => String(traceparent).split('-')[2];

const DONE = '10000000-0000-4000-8000-000000000001';
const FAILING = '10000000-0000-4000-8000-000000000500';
const LIVE = '10000000-0000-4000-8000-000000000002';
const FOREVER = '10000000-0000-4000-8000-000000000003';
const AT_SHUTDOWN = '10000000-0000-4000-8000-000000000004';

describe('tracing (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  it('makes a query one trace: incoming traceparent → SERVER span with the operation → CLIENT span named by the traceparent upstream gets; trace id on the log lines', async () => {
    const receiver = await startReceiver();
    const upstream = await startScriptedUpstream({ [DONE]: ['PROCESSED'] });
    const gateway = startGateway({
      CLEARTAX_BASE_URL: upstream.url,
      // Every line: expected errors and retries are logged at debug.
      LOG_LEVEL: 'debug',
      UPSTREAM_RETRIES: '1',
      UPSTREAM_RETRY_BASE_MS: '10',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    const url = await gateway.url();

    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const incoming = `00-${traceId}-00f067aa0ba902b7-01`;
    const answer = await query(url, DONE, { traceparent: incoming, 'x-request-id': 'traced-1' });
    expect(await answer.json()).toEqual({ data: { uploadActivity: { status: 'PROCESSED' } } });
    // Without a traceparent, a new trace starts; a 404 and a 500 make the gateway log inside the requests.
    await query(url, MISSING, { 'x-request-id': 'traced-2' });
    await query(url, FAILING, { 'x-request-id': 'traced-3' });

    const server = () => receiver.spans.find((s) => s.kind === SERVER && s.traceId === traceId);
    await expect.poll(server, { timeout: 10_000 }).toBeDefined();
    expect(server()).toMatchObject({
      parentSpanId: '00f067aa0ba902b7',
      service: 'cleartax-upload-status-gateway',
      attributes: expect.objectContaining({
        'graphql.operation.name': 'TracedLookup',
        'graphql.operation.type': 'query',
        'http.route': '/graphql',
      }),
    });
    const upstreamRead = upstream.requests.find((r) => r.url.includes(DONE))!;
    const traceparent = String(upstreamRead.headers.traceparent);
    // The read's own client span, not the caller's span, is what ClearTax sees as parent.
    expect(traceparent).not.toBe(incoming);
    expect(traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const client = () => receiver.spans.find((s) => s.spanId === parentIdOf(traceparent));
    await expect.poll(client, { timeout: 10_000 }).toBeDefined();
    expect(client()).toMatchObject({
      kind: CLIENT,
      traceId,
      attributes: expect.objectContaining({ 'http.response.status_code': 200 }),
    });
    // …and it descends from the server span (through graphql.execute).
    const ancestors: string[] = [];
    for (let s = client(); s; s = receiver.spans.find((p) => p.spanId === s!.parentSpanId)) ancestors.push(s.name);
    expect(ancestors).toEqual(['GET', 'query TracedLookup', 'POST /graphql']);

    // The other queries' traces: new ones, with a root server span each.
    await expect.poll(() => receiver.spans.filter((s) => s.kind === SERVER).length, { timeout: 10_000 }).toBe(3);
    const servers = receiver.spans.filter((s) => s.kind === SERVER && s.traceId !== traceId);
    expect(servers.map((s) => s.parentSpanId)).toEqual(['', '']);

    // Every log line written inside a request carries its trace id: the request's own lines (the
    // access line, expected errors at debug), and those of the code it runs (a retry, the outage log).
    const logs = gateway.logs();
    const traceOf = (requestId: string) => {
      const lines = logs.filter((line) => line.requestId === requestId);
      expect(lines.length).toBeGreaterThanOrEqual(requestId === 'traced-1' ? 1 : 2); // + the error, at debug
      const ids = new Set(lines.map((line) => line.trace_id));
      expect(ids.size).toBe(1);
      return [...ids][0];
    };
    expect(traceOf('traced-1')).toBe(traceId);
    expect(servers.map((s) => s.traceId)).toEqual(expect.arrayContaining([traceOf('traced-2'), traceOf('traced-3')]));
    const retry = logs.find((line) => line.msg === 'upstream attempt failed, retrying');
    const outage = logs.find((line) => line.msg === 'upstream became unreachable');
    expect([retry?.trace_id, outage?.trace_id]).toEqual([traceOf('traced-3'), traceOf('traced-3')]);
    // Lines outside any request (start-up) carry none.
    expect(logs.find((line) => line.msg === 'gateway listening')).not.toHaveProperty('trace_id');

    const { code, otelModules } = await gateway.stop();
    expect(code).toBe(0);
    // The probe sees the SDK and the instrumentations when they are loaded.
    expect(otelModules).toHaveProperty(['@opentelemetry/sdk-node']);
    expect(otelModules).toHaveProperty(['@opentelemetry/instrumentation-pino']);
  });

  it('makes each poll its own short root trace, and a subscription a start and an end span with the reason', async () => {
    const receiver = await startReceiver();
    const upstream = await startScriptedUpstream({
      [LIVE]: ['QUEUED', 'QUEUED', 'PROCESSED'],
      [FOREVER]: ['QUEUED'],
      [AT_SHUTDOWN]: ['QUEUED'],
    });
    const gateway = startGateway({
      CLEARTAX_BASE_URL: upstream.url,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    const url = await gateway.url();
    const client = connect(url);
    const watch = (activityId: string) =>
      record(client, UploadActivityStatusChangedDocument, { taxableEntityId: ENTITY, activityId });

    const began = Date.now();
    const live = watch(LIVE); // QUEUED, (QUEUED), PROCESSED: completes
    const missing = watch(MISSING); // NOT_FOUND: an error ends it
    const forever = watch(FOREVER); // the client leaves
    await live.done;
    await missing.done.catch(() => undefined);
    await expect.poll(() => upstream.requests.filter((r) => r.url.includes(FOREVER)).length).toBeGreaterThanOrEqual(3);
    forever.unsubscribe();
    const lifetimeMs = Date.now() - began;
    const atShutdown = watch(AT_SHUTDOWN);
    await expect.poll(() => atShutdown.events.length).toBe(1);

    const named = (name: string) => receiver.spans.filter((s) => s.name === name);
    const endOf = (activityId: string) =>
      named('upload_status.subscription.end').find((s) => idsOf(s).includes(activityId));
    await expect.poll(() => [LIVE, MISSING, FOREVER].map((id) => endOf(id) !== undefined)).toEqual([true, true, true]);

    // Polls: roots, each in its own trace, with the HTTP status and whether the state changed.
    const polls = named('upload_status.poll').filter((s) => idsOf(s).includes(LIVE));
    expect(
      polls.map((s) => [s.attributes['http.response.status_code'], s.attributes['upload_status.changed']]),
    ).toEqual([
      [200, true],
      [200, false],
      [200, true],
    ]);
    for (const poll of polls) expect(poll.parentSpanId).toBe('');
    expect(new Set(polls.map((s) => s.traceId)).size).toBe(polls.length);
    // The upstream read of each poll is its CLIENT child, and the traceparent ClearTax got names it.
    const liveReads = upstream.requests.filter((r) => r.url.includes(LIVE));
    expect(liveReads).toHaveLength(3);
    for (const read of liveReads) {
      const span = receiver.spans.find((s) => s.spanId === parentIdOf(read.headers.traceparent));
      expect(span).toMatchObject({ kind: CLIENT });
      expect(polls.map((p) => p.spanId)).toContain(span!.parentSpanId);
    }
    const failed = named('upload_status.poll').find((s) => idsOf(s).includes(MISSING));
    expect(failed?.attributes).toMatchObject({ 'http.response.status_code': 404, 'error.type': 'NOT_FOUND' });

    // Start and end: two short spans, the end a root linked to the start.
    const starts = named('upload_status.subscription.start');
    expect(endOf(LIVE)!.attributes).toMatchObject({ 'upload_status.end_reason': 'completed' });
    expect(endOf(MISSING)!.attributes).toMatchObject({
      'upload_status.end_reason': 'error',
      'error.type': 'NOT_FOUND',
    });
    expect(endOf(FOREVER)!.attributes).toMatchObject({ 'upload_status.end_reason': 'client-gone' });
    for (const id of [LIVE, MISSING, FOREVER]) {
      const end = endOf(id)!;
      expect(end.parentSpanId).toBe('');
      const start = starts.find((s) => s.spanId === end.links[0]?.spanId);
      expect(idsOf(start!)).toEqual([id]);
    }

    // Shutdown ends the last one, and the SDK flushes its end span before the process exits.
    const { code } = await gateway.stop();
    expect(code).toBe(0);
    await expect.poll(() => endOf(AT_SHUTDOWN)?.attributes['upload_status.end_reason']).toBe('shutdown');

    // No span lives as long as a subscription: FOREVER lived for several polls.
    const since = receiver.spans.filter((s) => s.startMs >= began);
    expect(since.filter((s) => s.durationMs >= lifetimeMs).map((s) => s.name)).toEqual([]);
  });
});

describe('tracing off (no OTLP endpoint)', () => {
  it('loads no OpenTelemetry SDK, exporter, instrumentation or hook (only the API prom-client requires), and forwards the incoming traceparent as it came', async () => {
    const upstream = await startScriptedUpstream({ [DONE]: ['PROCESSED'] });
    const gateway = startGateway({ CLEARTAX_BASE_URL: upstream.url });
    const url = await gateway.url();
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect((await query(url, DONE, { traceparent: incoming })).status).toBe(200);
    expect(upstream.requests[0]!.headers.traceparent).toBe(incoming);
    expect(gateway.logs().some((line) => 'trace_id' in line)).toBe(false);
    // Nothing but the API, which prom-client 15 requires (for exemplars) whatever our configuration:
    // no SDK, exporter, instrumentation or loader hook.
    expect(await gateway.stop()).toEqual({
      code: 0,
      otelModules: { '@opentelemetry/api': 'prom-client/lib/metrics/processCpuTotal.js' },
    });
  });
});
