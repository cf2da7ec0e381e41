/**
 * The board's rows as an operations person reads them: which group each belongs to,
 * the totals, and the order (moving first, then failed, then finished). Pure.
 */
import type { Filter } from './view';

/** Moving: not finished yet (or not read yet). Failed: ABORTED, or its read ended in an error. Finished: PROCESSED. */
export type Group = 'moving' | 'failed' | 'finished';

/** What a row shows, as far as grouping goes: its status (when read) and the error its read ended in, if any. */
export interface RowFacts {
  status: string | undefined;
  /** The error code of the row's current problem (`NOT_FOUND`, `UPSTREAM_UNAVAILABLE`, …). */
  problem: string | undefined;
}

/** Errors that say the row will never be read as it is: the read failed, not just this attempt. */
const FAILED_READS = new Set(['NOT_FOUND', 'FORBIDDEN', 'BAD_USER_INPUT']);

export function groupOf({ status, problem }: RowFacts): Group {
  if (problem !== undefined && FAILED_READS.has(problem)) return 'failed';
  if (status === 'ABORTED') return 'failed';
  if (status === 'PROCESSED') return 'finished';
  // Not read yet, or a transient error (upstream down, rate limited): still on its way.
  return 'moving';
}

export function matchesFilter(group: Group, filter: Filter): boolean {
  return filter === 'all' || filter === group;
}

export interface Totals {
  all: number;
  moving: number;
  failed: number;
  finished: number;
  processed: number;
  aborted: number;
  /** Failed reads: not found, forbidden. */
  unreadable: number;
}

export function totals(rows: readonly RowFacts[]): Totals {
  const sum: Totals = { all: 0, moving: 0, failed: 0, finished: 0, processed: 0, aborted: 0, unreadable: 0 };
  for (const row of rows) {
    const group = groupOf(row);
    sum.all += 1;
    sum[group] += 1;
    if (group === 'finished') sum.processed += 1;
    else if (group === 'failed') {
      if (row.problem !== undefined && FAILED_READS.has(row.problem)) sum.unreadable += 1;
      else sum.aborted += 1;
    }
  }
  return sum;
}

/** "3 moving · 12 processed · 2 aborted" (read errors only when there are any). */
export function summaryText(sum: Totals): string {
  const parts = [`${sum.moving} moving`, `${sum.processed} processed`, `${sum.aborted} aborted`];
  if (sum.unreadable > 0) parts.push(`${sum.unreadable} not readable`);
  return parts.join(' · ');
}

const RANK: Record<Group, number> = { moving: 0, failed: 1, finished: 2 };

export interface Orderable {
  id: string;
  group: Group;
  /** When the board saw the row's last change (ms); `undefined` until it has seen one. */
  changedAt: number | undefined;
}

/**
 * Moving rows first, then failed, then finished; in each group the most recently
 * changed first. Rows the board saw change at the same moment (a page opened on many
 * rows) keep the reverse of the watched order, so the newest uploads (listed last) lead.
 * The key is the board's time of the last change, never the read time: a re-read that
 * changes nothing does not move a row.
 */
export function orderRows(rows: readonly Orderable[]): string[] {
  return rows
    .map((row, index) => ({ row, index }))
    .sort(
      (a, b) =>
        RANK[a.row.group] - RANK[b.row.group] ||
        (b.row.changedAt ?? Infinity) - (a.row.changedAt ?? Infinity) ||
        b.index - a.index,
    )
    .map(({ row }) => row.id);
}

/**
 * The order shown while the user is reading the list (pointer over it, focus in it):
 * the order they started reading in, so nothing jumps under their eyes. Rows gone since
 * drop out; rows new since come first, in their own order. Once they stop reading, the
 * list takes `current`, and a row that finished moves down once.
 */
export function heldOrder(held: readonly string[], current: readonly string[]): string[] {
  const present = new Set(current);
  const known = new Set(held);
  return [...current.filter((id) => !known.has(id)), ...held.filter((id) => present.has(id))];
}
