import type { ActivityKey } from './activity-key.js';
import { isTerminalStatus, statusChanged, type StatusSnapshot } from './status-snapshot.js';
import type { ErrorCode, UpstreamErrorBody } from './error-code.js';

/**
 * What the StatusWatcher publishes for one watched key: a state, or the error that
 * ended it. Plain JSON so it can cross process boundaries (Redis) unchanged; it
 * never carries a token.
 */
export type StatusEvent =
  /** `isStale`: polls of this activity have failed for STALE_AFTER_MS; `snapshot` is the last known state. */
  | { type: 'snapshot'; snapshot: StatusSnapshot; isStale?: boolean }
  | { type: 'error'; key: ActivityKey; code: ErrorCode; message: string; upstream?: UpstreamErrorBody };

/** Whether a subscriber who last saw `prev` must be told about `next`: a state change, or staleness turning on or off. */
export function eventChanged(prev: (StatusEvent & { type: 'snapshot' }) | undefined, next: StatusEvent & { type: 'snapshot' }): boolean {
  return prev === undefined || statusChanged(prev.snapshot, next.snapshot) || (prev.isStale ?? false) !== (next.isStale ?? false);
}

/** The last word on a key: a terminal state or an error. Nothing follows it. */
export function isFinalEvent(event: StatusEvent): boolean {
  return event.type === 'error' || isTerminalStatus(event.snapshot.rawStatus);
}
