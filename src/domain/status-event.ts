import type { ActivityKey } from './activity-key.js';
import { isTerminalStatus, statusChanged, type StatusSnapshot } from './status-snapshot.js';
import type { ErrorCode, UpstreamErrorBody } from './error-code.js';

/**
 * What the StatusWatcher publishes for one watched key: a state, or the error that
 * ended it. Plain JSON so it can cross process boundaries (Redis) unchanged; it
 * never carries a token.
 */
export type StatusEvent =
  /**
   * `isStale`: polls of this activity have failed for STALE_AFTER_MS; `snapshot` is the last known state.
   * `version`: this key's event order (see `snapshotVersion`); the watcher always sets it, and an event
   * without one is ordered by the same rule.
   */
  | { type: 'snapshot'; snapshot: StatusSnapshot; isStale?: boolean; version?: number }
  | { type: 'error'; key: ActivityKey; code: ErrorCode; message: string; upstream?: UpstreamErrorBody };

/**
 * The per-key order of snapshot events: the upstream read time (`fetchedAt`, epoch
 * ms) doubled, plus one when the event says the state is stale. A later read is
 * always higher; "stale" about a read is above that read and below the next one
 * (staleness only ends with a new read). Derived from the snapshot alone, so it
 * needs no counter anywhere: it survives a lease holder's death, a Redis outage
 * (each instance polling on its own stamps its reads with the time it read) and
 * Redis replaying a publish that had timed out, which is then lower than what every
 * subscriber has. It assumes instances' clocks agree (NTP) to well within a poll
 * interval. NaN when `fetchedAt` is unreadable: such an event is never dropped by it.
 */
export function snapshotVersion(snapshot: StatusSnapshot, isStale = false): number {
  return Date.parse(snapshot.fetchedAt) * 2 + (isStale ? 1 : 0);
}

/** A snapshot event carrying its version. */
export function snapshotEvent(snapshot: StatusSnapshot, isStale = false): StatusEvent & { type: 'snapshot' } {
  return { type: 'snapshot', snapshot, isStale, version: snapshotVersion(snapshot, isStale) };
}

/** The event's version: its own, or derived the same way when it carries none. */
export function eventVersion(event: StatusEvent & { type: 'snapshot' }): number {
  return event.version ?? snapshotVersion(event.snapshot, event.isStale);
}

/** Whether a subscriber who last saw `prev` must be told about `next`: a state change, or staleness turning on or off. */
export function eventChanged(
  prev: (StatusEvent & { type: 'snapshot' }) | undefined,
  next: StatusEvent & { type: 'snapshot' },
): boolean {
  return (
    prev === undefined ||
    statusChanged(prev.snapshot, next.snapshot) ||
    (prev.isStale ?? false) !== (next.isStale ?? false)
  );
}

/** The last word on a key: a terminal state or an error. Nothing follows it. */
export function isFinalEvent(event: StatusEvent): boolean {
  return event.type === 'error' || isTerminalStatus(event.snapshot.rawStatus);
}
