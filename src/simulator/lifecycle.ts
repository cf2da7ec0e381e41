/**
 * The simulated upload lifecycle, pure: INIT → UPLOADED → QUEUED (queuedCount
 * counting down) → PROCESSING → PROCESSED, or ABORTED with an errorMessage for
 * activities planned to fail.
 */

export interface SimActivity {
  taxableEntityId: string;
  activityId: string;
  /** Any string: tests may script values upstream never documented. */
  status: string;
  errorMessage: string | null;
  /** `undefined` leaves the field out of the JSON body entirely. */
  queuedCount: number | null | undefined;
  /** Whether the simulator clock moves it; scripted activities usually stay put. */
  isAuto: boolean;
  /** Decided at creation: whether it ends ABORTED, and how long its queue is. */
  plan: { willAbort: boolean; queueLength: number };
}

export const ABORT_MESSAGE = 'Invalid GSTIN in row 3: 27AAAAA0000A1Z5 is not registered';

/** The state one clock step after `activity`, or `undefined` when it no longer moves. */
export function nextState(
  activity: SimActivity,
): Pick<SimActivity, 'status' | 'errorMessage' | 'queuedCount'> | undefined {
  switch (activity.status) {
    case 'INIT':
      return { status: 'UPLOADED', errorMessage: null, queuedCount: 0 };
    case 'UPLOADED':
      return { status: 'QUEUED', errorMessage: null, queuedCount: Math.max(1, activity.plan.queueLength) };
    case 'QUEUED': {
      const left = (activity.queuedCount ?? 0) - 1;
      return left > 0
        ? { status: 'QUEUED', errorMessage: null, queuedCount: left }
        : { status: 'PROCESSING', errorMessage: null, queuedCount: 0 };
    }
    case 'PROCESSING':
      return activity.plan.willAbort
        ? { status: 'ABORTED', errorMessage: ABORT_MESSAGE, queuedCount: 0 }
        : { status: 'PROCESSED', errorMessage: null, queuedCount: 0 };
    default:
      return undefined;
  }
}
