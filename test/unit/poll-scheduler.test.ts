import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPollScheduler, type PollSchedulerOptions } from '../../src/upload-activity/poll-scheduler.js';

/** A scheduler whose due keys are recorded with the (fake) time they came due. */
function setup(options: Partial<PollSchedulerOptions> = {}) {
  const due: [string, number][] = [];
  const scheduler = createPollScheduler({
    intervalMs: 100,
    maxIntervalMs: 1000,
    random: () => 0.5, // jitter factor exactly 1
    onDue: (key) => due.push([key, Date.now()]),
    ...options,
  });
  const start = Date.now();
  /** Times (ms since start) at which `key` came due. */
  const times = (key: string) => due.filter(([k]) => k === key).map(([, at]) => at - start);
  return { scheduler, due, times };
}

describe('createPollScheduler (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands a new key out at once, and never again while its read is in flight', async () => {
    const { scheduler, times } = setup();
    scheduler.add('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(times('a')).toEqual([0]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(times('a')).toEqual([0]);
    expect(scheduler.dueIn('a')).toBe(0);
  });

  it('grows the interval by 1.5 per unchanged poll up to the ceiling, and resets it after a change', async () => {
    const { scheduler, times } = setup();
    scheduler.add('a');
    const settleEach = (outcomes: ('changed' | 'unchanged')[]) =>
      (async () => {
        for (const type of outcomes) {
          await vi.advanceTimersByTimeAsync(0);
          const before = times('a').length;
          scheduler.settle('a', { type });
          await vi.advanceTimersByTimeAsync(scheduler.dueIn('a')!);
          expect(times('a').length).toBe(before + 1);
        }
      })();
    await settleEach([
      'changed',
      'unchanged',
      'unchanged',
      'unchanged',
      'unchanged',
      'unchanged',
      'unchanged',
      'unchanged',
      'changed',
    ]);
    const gaps = times('a')
      .slice(1)
      .map((t, i) => t - times('a')[i]!);
    // 100 after the change, then x1.5 per unchanged poll: 150, 225, 338, 507, 761 (rounded each step), 1000 (ceiling), 1000; 100 after a change.
    expect(gaps).toEqual([100, 150, 225, 338, 507, 761, 1000, 1000, 100]);
  });

  it('backs off exponentially after failures, capped by the ceiling, and with jitter', async () => {
    const jitter = [0, 0.999, 0.5, 0.5, 0.5];
    const { scheduler, times } = setup({ random: () => jitter.shift() ?? 0.5 });
    scheduler.add('a');
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(0);
      scheduler.settle('a', { type: 'failed' });
      await vi.advanceTimersByTimeAsync(scheduler.dueIn('a')!);
    }
    const gaps = times('a')
      .slice(1)
      .map((t, i) => t - times('a')[i]!);
    // 100 x 2^n x (0.75 + 0.5 x random): 150 (low jitter), ~500 (high), 800, 1000 (capped), 1000.
    expect(gaps[0]).toBe(150);
    expect(gaps[1]).toBeGreaterThanOrEqual(499);
    expect(gaps[1]).toBeLessThanOrEqual(500);
    expect(gaps.slice(2)).toEqual([800, 1000, 1000]);
  });

  it('waits at least a Retry-After, but never longer than the ceiling', async () => {
    const { scheduler, times } = setup();
    scheduler.add('a');
    await vi.advanceTimersByTimeAsync(0);
    scheduler.settle('a', { type: 'failed', retryAfterMs: 700 });
    await vi.advanceTimersByTimeAsync(699);
    expect(times('a')).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(times('a')).toEqual([0, 700]);

    // A huge Retry-After is clamped to maxIntervalMs: the key is not frozen, and no timer overflows.
    scheduler.settle('a', { type: 'failed', retryAfterMs: 999_999_999_000 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(times('a')).toEqual([0, 700, 1700]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('runs every key on one timer, each on its own schedule', async () => {
    const { scheduler, times } = setup();
    scheduler.add('fast');
    scheduler.add('slow');
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(0);
    scheduler.settle('fast', { type: 'changed' });
    // 'slow' is still in flight: 'fast' goes on without it.
    await vi.advanceTimersByTimeAsync(100);
    scheduler.settle('fast', { type: 'changed' });
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(times('fast')).toEqual([0, 100, 200]);
    expect(times('slow')).toEqual([0]);
    scheduler.settle('slow', { type: 'changed' });
    scheduler.settle('fast', { type: 'changed' });
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(times('slow')).toEqual([0, 300]);
  });

  it('expedites an idle key, not one in flight; forgets removed keys', async () => {
    const { scheduler, times } = setup();
    scheduler.add('a');
    await vi.advanceTimersByTimeAsync(0);
    scheduler.expedite('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(times('a')).toEqual([0]);
    scheduler.settle('a', { type: 'unchanged' });
    await vi.advanceTimersByTimeAsync(40);
    scheduler.expedite('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(times('a')).toEqual([0, 40]);

    scheduler.remove('a');
    scheduler.settle('a', { type: 'changed' });
    await vi.advanceTimersByTimeAsync(5000);
    expect(times('a')).toEqual([0, 40]);
    expect(scheduler.size).toBe(0);
    expect(scheduler.dueIn('a')).toBeUndefined();
  });

  it('checks a skipped key (another instance polls it) again after one base interval', async () => {
    const { scheduler, times } = setup();
    scheduler.add('a');
    await vi.advanceTimersByTimeAsync(0);
    scheduler.settle('a', { type: 'unchanged' });
    await vi.advanceTimersByTimeAsync(150);
    scheduler.settle('a', { type: 'skipped' });
    await vi.advanceTimersByTimeAsync(100);
    expect(times('a')).toEqual([0, 150, 250]);
  });

  it('stops: no timer left, nothing due any more', async () => {
    const { scheduler, times } = setup();
    scheduler.add('a');
    scheduler.stop();
    scheduler.add('b');
    await vi.advanceTimersByTimeAsync(1000);
    expect(times('a')).toEqual([]);
    expect(times('b')).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
