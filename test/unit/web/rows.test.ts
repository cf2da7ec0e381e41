import { describe, expect, it } from 'vitest';
import { groupOf, heldOrder, matchesFilter, orderRows, summaryText, totals } from '../../../web/src/rows.js';

describe("the board's groups and totals", () => {
  it('puts each row in one group: failed for ABORTED or a failed read, finished for PROCESSED, else moving', () => {
    expect(groupOf({ status: 'QUEUED', problem: undefined })).toBe('moving');
    expect(groupOf({ status: undefined, problem: undefined })).toBe('moving');
    expect(groupOf({ status: 'UNKNOWN', problem: undefined })).toBe('moving');
    expect(groupOf({ status: 'PROCESSING', problem: 'UPSTREAM_UNAVAILABLE' })).toBe('moving');
    expect(groupOf({ status: 'ABORTED', problem: undefined })).toBe('failed');
    expect(groupOf({ status: undefined, problem: 'NOT_FOUND' })).toBe('failed');
    expect(groupOf({ status: 'QUEUED', problem: 'FORBIDDEN' })).toBe('failed');
    expect(groupOf({ status: 'PROCESSED', problem: undefined })).toBe('finished');
  });

  it('filters by group, and all shows every group', () => {
    expect(matchesFilter('moving', 'moving')).toBe(true);
    expect(matchesFilter('failed', 'moving')).toBe(false);
    expect(['moving', 'failed', 'finished'].every((group) => matchesFilter(group as 'moving', 'all'))).toBe(true);
  });

  it('counts every row per group and writes the summary line', () => {
    const sum = totals([
      { status: 'QUEUED', problem: undefined },
      { status: 'INIT', problem: undefined },
      { status: undefined, problem: undefined },
      { status: 'PROCESSED', problem: undefined },
      { status: 'ABORTED', problem: undefined },
      { status: undefined, problem: 'NOT_FOUND' },
    ]);
    expect(sum).toEqual({ all: 6, moving: 3, failed: 2, finished: 1, processed: 1, aborted: 1, unreadable: 1 });
    expect(summaryText(sum)).toBe('3 moving · 1 processed · 1 aborted · 1 not readable');
    expect(summaryText(totals([]))).toBe('0 moving · 0 processed · 0 aborted');
  });
});

describe("the board's order", () => {
  it('lists moving rows first, then failed, then finished, the most recently changed first in each', () => {
    const order = orderRows([
      { id: 'done-old', group: 'finished', changedAt: 1 },
      { id: 'moving-old', group: 'moving', changedAt: 2 },
      { id: 'failed', group: 'failed', changedAt: 9 },
      { id: 'moving-new', group: 'moving', changedAt: 5 },
      { id: 'done-new', group: 'finished', changedAt: 8 },
    ]);
    expect(order).toEqual(['moving-new', 'moving-old', 'failed', 'done-new', 'done-old']);
  });

  it('puts rows seen at the same moment newest-listed first, and rows not seen yet first in their group', () => {
    expect(
      orderRows([
        { id: 'a', group: 'moving', changedAt: 5 },
        { id: 'b', group: 'moving', changedAt: 5 },
        { id: 'c', group: 'moving', changedAt: undefined },
        { id: 'd', group: 'finished', changedAt: undefined },
      ]),
    ).toEqual(['c', 'b', 'a', 'd']);
  });

  it('holds the order while the list is read: gone rows drop out, new ones come first', () => {
    expect(heldOrder(['a', 'b', 'c'], ['c', 'a', 'b'])).toEqual(['a', 'b', 'c']);
    expect(heldOrder(['a', 'b', 'c'], ['d', 'c', 'a'])).toEqual(['d', 'a', 'c']);
  });
});
