import type { ActivityKey } from './domain/index.js';

/**
 * The feature code's view of tracing: the few spans only it can name (a poll, a
 * subscription's start and end). Requests, GraphQL execution and upstream HTTP are
 * traced by the OpenTelemetry instrumentations, outside the feature code.
 *
 * A seam, not the OpenTelemetry API, on purpose: with tracing off (the default)
 * `noTracing` is used and no OpenTelemetry module is loaded at all; with it on,
 * `src/app/telemetry.ts` implements this with the API. Nothing here may hold a span
 * open for long: a subscription can live for hours, so its start and end are two
 * short spans, the end linked to the start.
 */
export interface Tracing {
  /**
   * Runs one poll of a watched activity as its own short trace (`upload_status.poll`,
   * a root span, never a child of the request that started the subscription); the
   * upstream read `run` starts is its child. `run` reports the outcome on `span`.
   */
  poll<T>(key: ActivityKey, run: (span: PollSpan) => Promise<T>): Promise<T>;
  /** A subscription started (a span that ends at once); the handle records its end. */
  subscriptionStarted(keys: readonly ActivityKey[]): SubscriptionTrace;
}

/** What one poll found. */
export interface PollReport {
  /** `changed` publishes; `skipped`: another instance holds the key's lease. */
  outcome: 'changed' | 'unchanged' | 'failed' | 'skipped';
  /** The upstream answer's HTTP status, when there was one (none for a timeout, a network failure or a skip). */
  httpStatus?: number | undefined;
  /** The error code of a failed poll. */
  errorCode?: string | undefined;
}

export interface PollSpan {
  report(report: PollReport): void;
}

/** Why a subscription ended. */
export type SubscriptionEnd =
  /** Every activity delivered its terminal status. */
  | { reason: 'completed' }
  /** An activity ended with an error (NOT_FOUND, FORBIDDEN, UNAUTHENTICATED, …), or the feed failed. */
  | { reason: 'error'; code: string }
  /** The client unsubscribed or its socket or stream closed first. */
  | { reason: 'client-gone' }
  /** The gateway stopped. */
  | { reason: 'shutdown' };

export interface SubscriptionTrace {
  /** Records the end (a second, short span). Called once. */
  ended(end: SubscriptionEnd): void;
}

const NO_POLL_SPAN: PollSpan = { report() {} };
const NO_SUBSCRIPTION_TRACE: SubscriptionTrace = { ended() {} };

/** Tracing off: no spans, nothing allocated per poll or per subscription. */
export const noTracing: Tracing = {
  poll: (_key, run) => run(NO_POLL_SPAN),
  subscriptionStarted: () => NO_SUBSCRIPTION_TRACE,
};
