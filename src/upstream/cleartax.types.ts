/**
 * Wire types of the ClearTax "Get upload status" endpoint, and the plain snapshot
 * the client turns a 200 answer into. Everything here is JSON-safe so it can travel
 * through PubSub (and Redis) unchanged.
 */

/** The statuses upstream documents. Anything else is kept verbatim as `rawStatus`. */
export const KNOWN_UPSTREAM_STATUSES = ['INIT', 'UPLOADED', 'QUEUED', 'PROCESSING', 'PROCESSED', 'ABORTED'] as const;
export type KnownUpstreamStatus = (typeof KNOWN_UPSTREAM_STATUSES)[number];

const TERMINAL = new Set<string>(['PROCESSED', 'ABORTED']);

/** PROCESSED and ABORTED never change again. */
export function isTerminalStatus(rawStatus: string): boolean {
  return TERMINAL.has(rawStatus);
}

/** Identifies one upload activity of one taxable entity. */
export interface ActivityKey {
  taxableEntityId: string;
  activityId: string;
}

/** One reading of an activity's status, as the gateway saw it. */
export interface StatusSnapshot extends ActivityKey {
  /** The upstream status string, verbatim. */
  rawStatus: string;
  errorMessage: string | null;
  queuedCount: number | null;
  /** ISO-8601 time the gateway received this answer. */
  fetchedAt: string;
}

/** `errors.err_1` of upstream's error body. */
export interface UpstreamErrorBody {
  httpStatus: number;
  code: string | null;
  message: string | null;
}
