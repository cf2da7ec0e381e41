import { describe, expect, it } from 'vitest';
import { ErrorCode, snapshotEvent, type StatusEvent, type StatusSnapshot } from '../../src/domain/index.js';
import { createStatusSubscription } from '../../src/upload-activity/status-subscription.js';

/** Read times: each snapshot is read 1 ms after the one made before it, as a poller's reads are. */
let readAt = Date.parse('2024-06-01T10:00:00.000Z');
const snap = (
  rawStatus: string,
  queuedCount: number | null = 0,
  errorMessage: string | null = null,
): StatusSnapshot => ({
  taxableEntityId: 'e',
  activityId: 'a',
  rawStatus,
  queuedCount,
  errorMessage,
  fetchedAt: new Date((readAt += 1)).toISOString(),
});
const ev = (s: StatusSnapshot): StatusEvent => ({ type: 'snapshot', snapshot: s });
const label = (r: IteratorResult<StatusEvent>) =>
  r.done
    ? 'done'
    : r.value.type === 'snapshot'
      ? `${r.value.snapshot.rawStatus}:${r.value.snapshot.queuedCount}`
      : r.value.code;

describe('createStatusSubscription', () => {
  it('delivers the first state, then changes only, and ends after a terminal state', async () => {
    let released = 0;
    const sub = createStatusSubscription(['k'], () => (released += 1));
    sub.offer('k', ev(snap('QUEUED', 2)));
    expect(label(await sub.next())).toBe('QUEUED:2');
    sub.offer('k', ev(snap('QUEUED', 2)));
    const pending = sub.next();
    sub.offer('k', ev(snap('QUEUED', 1)));
    expect(label(await pending)).toBe('QUEUED:1');
    sub.offer('k', ev(snap('PROCESSED')));
    expect(label(await sub.next())).toBe('PROCESSED:0');
    expect(label(await sub.next())).toBe('done');
    expect(released).toBe(1);
    await sub.closed;
  });

  it('keeps at most one undelivered event per key for a slow consumer, the latest', async () => {
    const delivered: string[] = [];
    const sub = createStatusSubscription(
      ['k'],
      () => undefined,
      (event) => delivered.push(label({ done: false, value: event })),
    );
    sub.offer('k', ev(snap('QUEUED', 10_000)));
    expect(label(await sub.next())).toBe('QUEUED:10000');
    for (let n = 9_999; n > 0; n--) sub.offer('k', ev(snap('QUEUED', n)));
    sub.offer('k', ev(snap('PROCESSING')));
    expect(sub.queued).toBe(1);
    expect(label(await sub.next())).toBe('PROCESSING:0');
    const next = sub.next();
    sub.offer('k', ev(snap('ABORTED', 0, 'bad')));
    expect(label(await next)).toBe('ABORTED:0');
    expect(label(await sub.next())).toBe('done');
    expect(delivered).toEqual(['QUEUED:10000', 'PROCESSING:0', 'ABORTED:0']);
  });

  it('drops an undelivered state that went back to what the consumer has', async () => {
    const sub = createStatusSubscription(['k'], () => undefined);
    sub.offer('k', ev(snap('QUEUED', 2)));
    await sub.next();
    sub.offer('k', ev(snap('QUEUED', 1)));
    sub.offer('k', ev(snap('QUEUED', 2)));
    const next = sub.next();
    sub.offer('k', ev(snap('QUEUED', 0)));
    expect(label(await next)).toBe('QUEUED:0');
  });

  it('drops a snapshot event at or below the version the subscriber has, delivered or waiting', async () => {
    const sub = createStatusSubscription(['k'], () => undefined);
    const q96 = snapshotEvent(snap('QUEUED', 96));
    const q91 = snapshotEvent(snap('QUEUED', 91));
    const q90 = snapshotEvent(snap('QUEUED', 90));
    sub.offer('k', q91);
    expect(label(await sub.next())).toBe('QUEUED:91');
    // Replayed or late: the same event again, and an older read of another state.
    sub.offer('k', q91);
    sub.offer('k', q96);
    expect(sub.queued).toBe(0);
    sub.offer('k', q90);
    // Waiting for the consumer: an older event does not replace it, nor does the same one again.
    sub.offer('k', q96);
    sub.offer('k', q91);
    sub.offer('k', q90);
    expect(sub.queued).toBe(1);
    expect(label(await sub.next())).toBe('QUEUED:90');
    sub.offer('k', q91);
    sub.offer('k', q90);
    expect(sub.queued).toBe(0);
    // The same state read later raises what the subscriber has: a replay of an in-between read is older still.
    const q89 = snapshotEvent(snap('QUEUED', 89));
    const q90Again = snapshotEvent(snap('QUEUED', 90));
    sub.offer('k', q90Again);
    sub.offer('k', q89);
    expect(sub.queued).toBe(0);
    // Staleness of the last read is above that read, and below the next read.
    sub.offer('k', snapshotEvent(q90Again.snapshot, true));
    const stale = await sub.next();
    expect(stale.value).toMatchObject({ isStale: true, snapshot: { queuedCount: 90 } });
    sub.offer('k', q90Again);
    expect(sub.queued).toBe(0);
    sub.offer('k', snapshotEvent(snap('QUEUED', 90)));
    expect(await sub.next()).toMatchObject({ value: { isStale: false, snapshot: { queuedCount: 90 } } });
    sub.offer('k', snapshotEvent(snap('PROCESSED')));
    expect(label(await sub.next())).toBe('PROCESSED:0');
    expect(label(await sub.next())).toBe('done');
  });

  it('ends a key on an error, and the whole subscription once every key has ended', async () => {
    const sub = createStatusSubscription(['a', 'b'], () => undefined);
    sub.offer('a', {
      type: 'error',
      key: { taxableEntityId: 'e', activityId: 'a' },
      code: ErrorCode.NOT_FOUND,
      message: 'gone',
    });
    sub.offer('b', ev(snap('INIT')));
    expect(label(await sub.next())).toBe('NOT_FOUND');
    expect(label(await sub.next())).toBe('INIT:0');
    sub.offer('a', ev(snap('INIT')));
    const next = sub.next();
    sub.offer('b', ev(snap('PROCESSED')));
    expect(label(await next)).toBe('PROCESSED:0');
    expect(label(await sub.next())).toBe('done');
  });

  it('releases exactly once however it ends, and wakes a pending next()', async () => {
    let released = 0;
    const sub = createStatusSubscription(['k'], () => (released += 1));
    const pending = sub.next();
    await sub.return!();
    sub.close();
    await sub.return!();
    expect(label(await pending)).toBe('done');
    expect(released).toBe(1);
    sub.offer('k', ev(snap('INIT')));
    expect(label(await sub.next())).toBe('done');
  });
});
