import { describe, expect, it } from 'vitest';
import { ErrorCode, type StatusEvent, type StatusSnapshot } from '../../src/domain/index.js';
import { createStatusSubscription } from '../../src/upload-activity/status-subscription.js';

const snap = (rawStatus: string, queuedCount: number | null = 0, errorMessage: string | null = null): StatusSnapshot => ({
  taxableEntityId: 'e',
  activityId: 'a',
  rawStatus,
  queuedCount,
  errorMessage,
  fetchedAt: new Date().toISOString(),
});
const ev = (s: StatusSnapshot): StatusEvent => ({ type: 'snapshot', snapshot: s });
const label = (r: IteratorResult<StatusEvent>) =>
  r.done ? 'done' : r.value.type === 'snapshot' ? `${r.value.snapshot.rawStatus}:${r.value.snapshot.queuedCount}` : r.value.code;

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
    const sub = createStatusSubscription(['k'], () => undefined, (event) => delivered.push(label({ done: false, value: event })));
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

  it('ends a key on an error, and the whole subscription once every key has ended', async () => {
    const sub = createStatusSubscription(['a', 'b'], () => undefined);
    sub.offer('a', { type: 'error', key: { taxableEntityId: 'e', activityId: 'a' }, code: ErrorCode.NOT_FOUND, message: 'gone' });
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
