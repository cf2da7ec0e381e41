/**
 * The board's own record of what it saw: for each row, the states it showed and when
 * the board first saw each. The API has no history, so a row already in its state when
 * the board opened starts at the moment the board first saw it. Pure.
 */

export interface Seen {
  /** A status (`QUEUED`) or, for a row that could not be read, its error code (`NOT_FOUND`). */
  state: string;
  /** When the board first showed it (ms since the epoch, the browser's clock). */
  at: number;
}

export type Timelines = ReadonlyMap<string, readonly Seen[]>;

/** A state change seen after the row's first state: what to announce. */
export interface Change {
  id: string;
  from: string;
  to: string;
  at: number;
}

/** The longest timeline kept per row (the oldest states go first). */
export const TIMELINE_MAX = 12;

/**
 * Adds what the rows show now: a row whose state differs from the last one it recorded
 * gets a new entry at `now`. Rows not read yet (`state` undefined) add nothing; rows no
 * longer watched are dropped. Returns the same `timelines` object when nothing changed,
 * so a React state update with it is a no-op.
 */
export function record(
  timelines: Timelines,
  rows: readonly { id: string; state: string | undefined }[],
  now: number,
): { timelines: Timelines; changes: Change[] } {
  const changes: Change[] = [];
  let next: Map<string, readonly Seen[]> | undefined;
  const edit = () => (next ??= new Map(timelines));
  for (const { id, state } of rows) {
    if (state === undefined) continue;
    const seen = timelines.get(id) ?? [];
    const last = seen[seen.length - 1];
    if (last?.state === state) continue;
    edit().set(id, [...seen, { state, at: now }].slice(-TIMELINE_MAX));
    if (last) changes.push({ id, from: last.state, to: state, at: now });
  }
  const watched = new Set(rows.map((row) => row.id));
  for (const id of timelines.keys()) if (!watched.has(id)) edit().delete(id);
  return { timelines: next ?? timelines, changes };
}

/** When the row's current state began, as far as the board knows. */
export function changedAt(seen: readonly Seen[] | undefined): number | undefined {
  return seen?.[seen.length - 1]?.at;
}

/** What a screen reader is told about changes: short ids, new states; a few at most. */
export function announcement(changes: readonly Change[]): string {
  const said = changes.slice(0, 3).map(({ id, to }) => `Activity ${id.slice(0, 8)} is now ${to}`);
  if (changes.length > 3) said.push(`and ${changes.length - 3} more changed`);
  return said.join('. ');
}
