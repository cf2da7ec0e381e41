import type { ActivityKey } from './activity-key.js';
import { isTerminalStatus, type StatusSnapshot } from './status-snapshot.js';
import type { ErrorCode, UpstreamErrorBody } from './error-code.js';

/**
 * What the StatusWatcher publishes for one watched key: a state, or the error that
 * ended it. Plain JSON so it can cross process boundaries (Redis) unchanged; it
 * never carries a token.
 */
export type StatusEvent =
  | { type: 'snapshot'; snapshot: StatusSnapshot }
  | { type: 'error'; key: ActivityKey; code: ErrorCode; message: string; upstream?: UpstreamErrorBody };

/** The last word on a key: a terminal state or an error. Nothing follows it. */
export function isFinalEvent(event: StatusEvent): boolean {
  return event.type === 'error' || isTerminalStatus(event.snapshot.rawStatus);
}
