import type { ActivityKey } from './activity-key.js';

/** The statuses upstream documents. Anything else is kept verbatim as `rawStatus`. */
export const UPSTREAM_STATUSES: readonly string[] = [
  'INIT',
  'UPLOADED',
  'QUEUED',
  'PROCESSING',
  'PROCESSED',
  'ABORTED',
];

const TERMINAL = new Set<string>(['PROCESSED', 'ABORTED']);

/**
 * One reading of an activity's status, as the gateway saw it. Plain JSON, so it
 * crosses PubSub (and later Redis) unchanged.
 */
export interface StatusSnapshot extends ActivityKey {
  /** The upstream status string, verbatim. */
  rawStatus: string;
  errorMessage: string | null;
  queuedCount: number | null;
  /** ISO-8601 time the gateway received this answer. */
  fetchedAt: string;
}

/** PROCESSED and ABORTED never change again. */
export function isTerminalStatus(rawStatus: string): boolean {
  return TERMINAL.has(rawStatus);
}

/**
 * Whether `next` is news to someone who last saw `prev`: a change of status
 * (compared verbatim, so two undocumented values differ), errorMessage or
 * queuedCount. `fetchedAt` alone is not a change.
 */
export function statusChanged(prev: StatusSnapshot | undefined, next: StatusSnapshot): boolean {
  return (
    prev === undefined ||
    prev.rawStatus !== next.rawStatus ||
    prev.errorMessage !== next.errorMessage ||
    prev.queuedCount !== next.queuedCount
  );
}
