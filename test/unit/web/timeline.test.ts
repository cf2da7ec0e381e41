import { describe, expect, it } from 'vitest';
import { TIMELINE_MAX, announcement, changedAt, record, type Timelines } from '../../../web/src/timeline.js';
import { ago, clockTime, duration, fullTimestamp } from '../../../web/src/time.js';

describe("the board's record of the states it saw", () => {
  it('starts a row at the moment the board first saw it, and adds each new state with its time', () => {
    let timelines: Timelines = new Map();
    const first = record(
      timelines,
      [
        { id: 'a', state: 'QUEUED' },
        { id: 'b', state: undefined },
      ],
      1000,
    );
    expect(first.changes).toEqual([]);
    timelines = first.timelines;
    expect(timelines.get('a')).toEqual([{ state: 'QUEUED', at: 1000 }]);
    expect(timelines.has('b')).toBe(false);

    const second = record(
      timelines,
      [
        { id: 'a', state: 'PROCESSING' },
        { id: 'b', state: 'INIT' },
      ],
      2500,
    );
    expect(second.changes).toEqual([{ id: 'a', from: 'QUEUED', to: 'PROCESSING', at: 2500 }]);
    expect(second.timelines.get('a')).toEqual([
      { state: 'QUEUED', at: 1000 },
      { state: 'PROCESSING', at: 2500 },
    ]);
    expect(changedAt(second.timelines.get('a'))).toBe(2500);
    expect(changedAt(undefined)).toBeUndefined();
  });

  it('returns the same object when nothing changed, and drops rows no longer watched', () => {
    const { timelines } = record(new Map(), [{ id: 'a', state: 'INIT' }], 1);
    expect(record(timelines, [{ id: 'a', state: 'INIT' }], 2).timelines).toBe(timelines);
    expect(record(timelines, [], 3).timelines.size).toBe(0);
  });

  it('keeps the newest states only', () => {
    let timelines: Timelines = new Map();
    for (let i = 0; i < TIMELINE_MAX + 5; i += 1)
      timelines = record(timelines, [{ id: 'a', state: `S${i}` }], i).timelines;
    expect(timelines.get('a')).toHaveLength(TIMELINE_MAX);
    expect(timelines.get('a')?.at(-1)).toEqual({ state: `S${TIMELINE_MAX + 4}`, at: TIMELINE_MAX + 4 });
  });

  it('announces changes with short ids, a few at most', () => {
    const change = (id: string, to: string) => ({ id, from: 'QUEUED', to, at: 0 });
    expect(announcement([change('8ec86d0a-f3e1-46d5-87d3-bcaa91a0a070', 'PROCESSED')])).toBe(
      'Activity 8ec86d0a is now PROCESSED',
    );
    expect(announcement(['1', '2', '3', '4', '5'].map((id) => change(id.repeat(8), 'ABORTED')))).toMatch(
      /Activity 33333333 is now ABORTED\. and 2 more changed$/,
    );
  });
});

describe("the board's clock times and durations", () => {
  it('writes local clock times and the full local timestamp with its offset', () => {
    const at = new Date(2026, 10, 29, 9, 5, 7).getTime();
    expect(clockTime(at)).toBe('09:05:07');
    expect(fullTimestamp(at)).toMatch(/^2026-11-29 09:05:07 UTC[+-]\d\d:\d\d$/);
  });

  it('writes durations in seconds, minutes, hours and days, never negative', () => {
    expect(duration(-5000)).toBe('0 s');
    expect(duration(45_900)).toBe('45 s');
    expect(duration(185_000)).toBe('3 min 05 s');
    expect(duration((2 * 60 + 4) * 60_000)).toBe('2 h 04 min');
    expect(duration(50 * 3_600_000)).toBe('2 d 2 h');
    expect(ago(10_000, 9_500)).toBe('just now');
    expect(ago(100_000, 40_000)).toBe('60 s ago');
    expect(ago(1_000_000, 0)).toBe('17 min ago');
  });
});
