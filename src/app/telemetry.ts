import { createRequire } from 'node:module';
import type * as otel from '@opentelemetry/api';
import type { ActivityKey } from '../domain/index.js';
import { noTracing, type PollReport, type SubscriptionEnd, type Tracing } from '../tracing.js';

/**
 * OpenTelemetry, loaded only when configured (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set, OTEL_TRACES_EXPORTER not `none`): the one
 * module that loads any `@opentelemetry/*` package, and only dynamically, so a
 * gateway with tracing off loads none of them (test/unit/telemetry-imports.test.ts
 * and test/integration/tracing.test.ts check both). Type imports are erased.
 */

/** `service.name` when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names one. */
export const DEFAULT_SERVICE_NAME = 'cleartax-upload-status-gateway';

export interface Telemetry {
  /** Flushes the spans still buffered and stops exporting. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * Starts the standard Node SDK (traces only, exported as the OTEL_* variables say:
 * OTEL_EXPORTER_OTLP_PROTOCOL, _ENDPOINT, _HEADERS, OTEL_BSP_*, OTEL_TRACES_SAMPLER …)
 * with the http, express, graphql, ioredis and pino instrumentations.
 *
 * Must run before express, graphql, pino, ioredis and the upstream HTTP client are
 * loaded: instrumentations patch a module as it loads, never afterwards. `main.ts`
 * therefore imports the gateway only after this resolves. Our modules are ESM and
 * those packages CommonJS; an ESM `import` of a CommonJS package is not seen by the
 * require hook, so the import-in-the-middle loader hook is registered too, limited to
 * the instrumented packages.
 */
export async function startTelemetry(): Promise<Telemetry> {
  const { register } = await import('node:module');
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
    data: { include: ['express', 'graphql', 'pino', 'ioredis', 'node:http', 'http'] },
  });
  const [sdkNode, { HttpInstrumentation }, { ExpressInstrumentation, ExpressLayerType }, graphql, ioredis, pino] =
    await Promise.all([
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-express'),
      import('@opentelemetry/instrumentation-graphql'),
      import('@opentelemetry/instrumentation-ioredis'),
      import('@opentelemetry/instrumentation-pino'),
    ]);
  const { NodeSDK, api, core, resources } = sdkNode;
  const sdk = new NodeSDK({
    // Detected attributes (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, process, host) override this default.
    resource: resources
      .defaultResource()
      .merge(resources.resourceFromAttributes({ 'service.name': DEFAULT_SERVICE_NAME })),
    // Traces only: metrics stay on /metrics (Prometheus), logs on stdout.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        // GraphQL requests only, and not the long-lived ones (SSE at /graphql/stream,
        // multipart subscriptions): no span may live as long as a subscription.
        // Health checks and /metrics scrapes would be most of the traces otherwise.
        ignoreIncomingRequestHook: (request) => {
          const path = (request.url ?? '').split('?')[0];
          return path !== '/graphql' || String(request.headers.accept).includes('subscriptionSpec');
        },
        // Upstream reads belong to a request or a poll; an orphan (the readiness ping) is not traced.
        requireParentforOutgoingSpans: true,
      }),
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER] }),
      new graphql.GraphQLInstrumentation({
        ignoreResolveSpans: true,
        // The request's SERVER span carries the operation too (contract), not only graphql.execute.
        responseHook: (span) => {
          const server = core.getRPCMetadata(api.context.active())?.span;
          const { attributes } = span as unknown as { attributes?: otel.Attributes };
          if (!server || !attributes) return;
          for (const name of ['graphql.operation.name', 'graphql.operation.type']) {
            const value = attributes[name];
            if (value !== undefined) server.setAttribute(name, value);
          }
        },
      }),
      new ioredis.IORedisInstrumentation(),
      // trace_id, span_id and trace_flags on each log line written inside a span; log lines
      // are not also sent as OpenTelemetry log records.
      new pino.PinoInstrumentation({ disableLogSending: true }),
    ],
  });
  sdk.start();
  let stopping: Promise<void> | undefined;
  return {
    shutdown() {
      stopping ??= sdk.shutdown();
      return stopping;
    },
  };
}

/**
 * The feature code's tracing seam (`src/tracing.ts`): `noTracing` when tracing is off,
 * else spans made with the OpenTelemetry API, exported by the SDK `startTelemetry`
 * registered (without it, the API's no-op tracer). Loaded synchronously here because
 * the core is built synchronously; `startTelemetry` has loaded the API already.
 */
export interface TracingOptions {
  /**
   * True while the gateway stops: a subscription whose socket or stream the drain
   * closes (graphql-ws then returns its iterator, as when a client leaves) ended
   * for shutdown, not because its client went. @default never
   */
  isShuttingDown?: () => boolean;
}

export function createTracing(isEnabled: boolean, options: TracingOptions = {}): Tracing {
  if (!isEnabled) return noTracing;
  const api = createRequire(import.meta.url)('@opentelemetry/api') as typeof otel;
  const tracer = api.trace.getTracer(DEFAULT_SERVICE_NAME);
  const keyAttributes = (keys: readonly ActivityKey[]): otel.Attributes => ({
    'upload_status.taxable_entity_id': keys[0]?.taxableEntityId,
    'upload_status.activity_ids': keys.map((key) => key.activityId),
  });
  return {
    poll(key, run) {
      // A root: a poll belongs to no request, whatever context its timer was set in.
      const span = tracer.startSpan('upload_status.poll', { root: true, attributes: keyAttributes([key]) });
      const report = (result: PollReport) => {
        span.setAttribute('upload_status.outcome', result.outcome);
        span.setAttribute('upload_status.changed', result.outcome === 'changed');
        if (result.httpStatus !== undefined) span.setAttribute('http.response.status_code', result.httpStatus);
        if (result.errorCode !== undefined) {
          span.setAttribute('error.type', result.errorCode);
          span.setStatus({ code: api.SpanStatusCode.ERROR });
        }
      };
      return api.context.with(api.trace.setSpan(api.context.active(), span), () =>
        run({ report }).finally(() => span.end()),
      );
    },
    subscriptionStarted(keys) {
      const attributes = keyAttributes(keys);
      const start = tracer.startSpan('upload_status.subscription.start', { attributes });
      start.end();
      // Kept until the end: the start's context (for the link), not the span.
      const link: otel.Link = { context: start.spanContext() };
      const started = performance.now();
      return {
        ended(how) {
          const end: SubscriptionEnd =
            how.reason === 'client-gone' && options.isShuttingDown?.() ? { reason: 'shutdown' } : how;
          // Its own trace, linked to the start: the subscription may have lasted hours.
          const span = tracer.startSpan('upload_status.subscription.end', {
            root: true,
            links: [link],
            attributes: {
              ...attributes,
              'upload_status.end_reason': end.reason,
              'upload_status.duration_ms': Math.round(performance.now() - started),
              ...(end.reason === 'error' ? { 'error.type': end.code } : {}),
            },
          });
          span.end();
        },
      };
    },
  };
}
