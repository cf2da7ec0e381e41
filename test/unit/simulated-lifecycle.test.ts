import { describe, expect, it } from 'vitest';
import { ABORT_MESSAGE, nextState, type SimActivity } from '../../src/simulator/lifecycle.js';

function run(willAbort: boolean, queueLength: number): string[] {
  const activity: SimActivity = {
    taxableEntityId: 'e',
    activityId: 'a',
    status: 'INIT',
    errorMessage: null,
    queuedCount: 0,
    isAuto: true,
    plan: { willAbort, queueLength },
  };
  const seen = [`${activity.status}:${activity.queuedCount}`];
  for (let next = nextState(activity); next; next = nextState(activity)) {
    Object.assign(activity, next);
    seen.push(`${activity.status}:${activity.queuedCount}`);
  }
  if (willAbort) expect(activity.errorMessage).toBe(ABORT_MESSAGE);
  return seen;
}

describe('simulated lifecycle', () => {
  it('moves INIT → UPLOADED → QUEUED (counting down) → PROCESSING → PROCESSED', () => {
    expect(run(false, 3)).toEqual([
      'INIT:0',
      'UPLOADED:0',
      'QUEUED:3',
      'QUEUED:2',
      'QUEUED:1',
      'PROCESSING:0',
      'PROCESSED:0',
    ]);
  });

  it('ends ABORTED with an errorMessage when planned to fail', () => {
    expect(run(true, 1)).toEqual(['INIT:0', 'UPLOADED:0', 'QUEUED:1', 'PROCESSING:0', 'ABORTED:0']);
  });

  it('leaves terminal and unknown statuses alone', () => {
    const base = {
      taxableEntityId: 'e',
      activityId: 'a',
      errorMessage: null,
      queuedCount: 0,
      isAuto: true,
      plan: { willAbort: false, queueLength: 1 },
    };
    expect(nextState({ ...base, status: 'PROCESSED' })).toBeUndefined();
    expect(nextState({ ...base, status: 'ABORTED' })).toBeUndefined();
    expect(nextState({ ...base, status: 'SOMETHING_NEW' })).toBeUndefined();
  });
});
