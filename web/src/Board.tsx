import { useEffect, useMemo, useRef, useState, type FocusEvent } from 'react';
import { CombinedGraphQLErrors } from '@apollo/client';
import { useFragment, useQuery, useSubscription } from '@apollo/client/react';
import {
  UploadActivitiesDocument,
  UploadActivitiesStatusChangedDocument,
  UploadActivityFieldsFragmentDoc,
  type UploadActivityFieldsFragment,
} from '../../schema/generated/graphql';
import { Row } from './Row';
import { groupOf, heldOrder, matchesFilter, orderRows, totals } from './rows';
import { Summary, emptyFilterText } from './Summary';
import { announcement, changedAt, record, type Timelines } from './timeline';
import type { Filter, View } from './view';

/** How long after its subscription ended normally while rows still move the board subscribes again. */
const RESUBSCRIBE_MS = 1000;

/** An error that reached a row, and the state the row had when it arrived. */
interface Problem {
  code: string;
  message: string;
  /** The row's state (`versionOf`) when the error arrived: any newer state supersedes the error. */
  over: string | undefined;
}

export interface BoardProps {
  view: View;
  filter: Filter;
  onFilter: (filter: Filter) => void;
  onRemove: (activityId: string) => void;
  onClear: () => void;
  /** The address of this view (with its filter). */
  href: string;
  /** Grows each time the live transport comes back after a drop: every row is read again then. */
  reconnects: number;
  onUpstreamDown: (isDown: boolean) => void;
}

/**
 * The board: one query for the rows, one subscription that updates them (normalised by
 * id). Each row shows the latest thing that reached it by any path: its state in the
 * cache (the newer read of query answers and subscription events, see apollo.ts), or
 * an error that arrived after that state. A re-query (an id added, a new demo upload,
 * the transport back) that fails for a row therefore shows its error only until a
 * newer state arrives.
 */
export function Board({ view, filter, onFilter, onRemove, onClear, href, reconnects, onUpstreamDown }: BoardProps) {
  const variables = { taxableEntityId: view.taxableEntityId, activityIds: view.activityIds };
  const { data, error, loading, refetch } = useQuery(UploadActivitiesDocument, { variables, errorPolicy: 'all' });
  // An HTTP stream also ends normally when the gateway drains (a restart): ended with no error while rows
  // still move, it is subscribed again and the rows are re-read. (A socket is closed then, and graphql-ws
  // resubscribes by itself.)
  const isMoving = useRef(false);
  const hasFailed = useRef(false);
  const resubscribe = useRef<() => void>(() => undefined);
  const { restart } = useSubscription(UploadActivitiesStatusChangedDocument, {
    variables,
    onError: () => {
      hasFailed.current = true;
    },
    onComplete: () => {
      setTimeout(() => {
        if (isMoving.current && !hasFailed.current) resubscribe.current();
      }, RESUBSCRIBE_MS);
    },
  });
  const now = useNow(1000);

  // The subscription sends changes only: what changed while the transport was down is read again.
  useEffect(() => {
    if (reconnects > 0) refetch().catch(() => undefined);
  }, [reconnects, refetch]);

  const from = useMemo(
    () =>
      view.activityIds.map((activityId) => ({
        __typename: 'UploadActivity' as const,
        id: `UploadActivity:${view.taxableEntityId}:${activityId}`,
      })),
    [view.taxableEntityId, view.activityIds],
  );
  const { data: cached } = useFragment({ fragment: UploadActivityFieldsFragmentDoc, from });
  const activities = view.activityIds.map((_, index) => asActivity(cached[index]));

  // Errors come with a query's network result only; each is kept per activity, with the
  // state it found, until a newer state of that activity arrives.
  const [problems, setProblems] = useState<ReadonlyMap<string, Problem>>(() => new Map());
  const handled = useRef(new WeakSet<object>());
  useEffect(() => {
    if (!error || handled.current.has(error)) return;
    handled.current.add(error);
    const found = new Map<string, Problem>();
    const recordProblem = (index: number, code: string, message: string) => {
      const activityId = view.activityIds[index];
      if (activityId) found.set(activityId, { code, message, over: versionOf(activities[index]) });
    };
    const everyRow = (code: string, message: string) =>
      view.activityIds.forEach((_, index) => recordProblem(index, code, message));
    if (CombinedGraphQLErrors.is(error)) {
      for (const e of error.errors) {
        const index = e.path?.[1];
        const code = String(e.extensions?.code ?? '');
        if (typeof index === 'number') recordProblem(index, code, e.message);
        else everyRow(code, e.message);
      }
    } else everyRow('NETWORK', error.message);
    setProblems((current) => new Map([...current, ...found]));
  }, [error, view.activityIds, activities]);

  const rows = view.activityIds.map((activityId, index) => {
    const activity = activities[index];
    const problem = problems.get(activityId);
    // Current only while nothing newer reached the row: no newer state, no answer for it in the latest query result.
    const isCurrent = problem !== undefined && problem.over === versionOf(activity) && !data?.uploadActivities?.[index];
    const shown = isCurrent ? problem : undefined;
    const facts = { status: activity?.status, problem: shown?.code };
    return { activityId, activity, problem: shown, facts, group: groupOf(facts) };
  });

  // Other ids, another subscription: its own ending.
  useEffect(() => {
    hasFailed.current = false;
  }, [view.taxableEntityId, view.activityIds]);
  useEffect(() => {
    isMoving.current = rows.some(({ group }) => group === 'moving');
    resubscribe.current = () => {
      restart();
      refetch().catch(() => undefined);
    };
  });

  const isUpstreamDown = rows.some(({ activity, problem }) =>
    problem ? problem.code === 'UPSTREAM_UNAVAILABLE' : activity?.isStale === true && !activity.isTerminal,
  );
  useEffect(() => onUpstreamDown(isUpstreamDown), [isUpstreamDown, onUpstreamDown]);
  useEffect(() => () => onUpstreamDown(false), [onUpstreamDown]);

  // The board's own record of the states it showed, and a polite word for each change.
  const [timelines, setTimelines] = useState<Timelines>(() => new Map());
  const [said, setSaid] = useState('');
  const observed = rows.map(({ activityId, activity, problem }) => ({
    id: activityId,
    state: activity?.status === 'UNKNOWN' ? activity.rawStatus : (activity?.status ?? problem?.code),
  }));
  const observedKey = observed.map(({ id, state }) => `${id}=${state ?? ''}`).join();
  useEffect(() => {
    const next = record(timelines, observed, Date.now());
    if (next.timelines === timelines) return;
    setTimelines(next.timelines);
    if (next.changes.length > 0) setSaid(announcement(next.changes));
    // `observed` is new each render; `observedKey` says when it differs.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [observedKey, timelines]);

  const sorted = orderRows(
    rows.map(({ activityId, group }) => ({ id: activityId, group, changedAt: changedAt(timelines.get(activityId)) })),
  );
  const { order, holdProps } = useHeldOrder(sorted);
  const byId = new Map(rows.map((row) => [row.activityId, row]));
  const shown = order.map((id) => byId.get(id)!).filter((row) => row && matchesFilter(row.group, filter));

  const list = useRef<HTMLUListElement>(null);
  /**
   * Stops watching a row; when its own button had the focus (keyboard use), the focus
   * moves to the next row's "Stop watching" (or the previous one's), else to "Clear the
   * view", instead of falling back to the page.
   */
  const removeKeepingFocus = (activityId: string) => {
    const index = shown.findIndex((shownRow) => shownRow.activityId === activityId);
    const neighbour = shown[index + 1] ?? shown[index - 1];
    const hadFocus = document.activeElement?.getAttribute('aria-label') === `Stop watching ${activityId}`;
    onRemove(activityId);
    if (!hadFocus) return;
    requestAnimationFrame(() => {
      const next = neighbour
        ? list.current?.querySelector<HTMLButtonElement>(`button[aria-label="Stop watching ${neighbour.activityId}"]`)
        : undefined;
      (next ?? document.querySelector<HTMLButtonElement>('button.clear'))?.focus();
    });
  };

  return (
    <section className="board" aria-busy={loading} aria-label="Watched activities">
      <p className="entity">
        <span className="entity-id">
          Entity <code>{view.taxableEntityId}</code> ·{' '}
        </span>
        {view.activityIds.length} {view.activityIds.length === 1 ? 'activity' : 'activities'} ·{' '}
        <a className="view-link" href={href} data-testid="view-link">
          link to this view
        </a>
        <button type="button" className="quiet clear" onClick={onClear}>
          Clear the view
        </button>
      </p>
      <Summary totals={totals(rows.map(({ facts }) => facts))} filter={filter} onFilter={onFilter} />
      <p className="visually-hidden" role="status" aria-live="polite" data-testid="announcer">
        {said}
      </p>
      {shown.length === 0 && <p className="note">{emptyFilterText(filter)}</p>}
      <ul className="rows" ref={list} {...holdProps}>
        {shown.map(({ activityId, activity, problem, group }) => (
          <Row
            key={activityId}
            activityId={activityId}
            activity={activity}
            problem={problem}
            group={group}
            isLoading={loading}
            seen={timelines.get(activityId)}
            now={now}
            onRemove={removeKeepingFocus}
          />
        ))}
      </ul>
    </section>
  );
}

/**
 * The rows' order, held while the user reads the list (pointer over it, focus in it) so
 * that no row jumps under their eyes; released when they leave it.
 */
function useHeldOrder(sorted: string[]) {
  const [held, setHeld] = useState<string[] | undefined>();
  const reading = useRef({ pointer: false, focus: false });
  const order = held ? heldOrder(held, sorted) : sorted;
  const update = (part: 'pointer' | 'focus', isOn: boolean) => {
    const wasReading = reading.current.pointer || reading.current.focus;
    reading.current = { ...reading.current, [part]: isOn };
    const isReading = reading.current.pointer || reading.current.focus;
    if (isReading && !wasReading) setHeld(order);
    if (!isReading && wasReading) setHeld(undefined);
  };
  const holdProps = {
    onPointerEnter: () => update('pointer', true),
    onPointerLeave: () => update('pointer', false),
    onFocus: () => update('focus', true),
    onBlur: (event: FocusEvent) => {
      if (!event.currentTarget.contains(event.relatedTarget)) update('focus', false);
    },
  };
  return { order, holdProps };
}

/** A complete activity from the cache, or nothing (not read yet). */
function asActivity(value: unknown): UploadActivityFieldsFragment | undefined {
  const candidate = value as Partial<UploadActivityFieldsFragment> | null | undefined;
  return candidate && typeof candidate.status === 'string' && typeof candidate.fetchedAt === 'string'
    ? (candidate as UploadActivityFieldsFragment)
    : undefined;
}

/** Which state a row shows: a new read (fetchedAt) or a change of staleness is a newer state. */
function versionOf(activity: UploadActivityFieldsFragment | undefined): string | undefined {
  return activity && `${activity.fetchedAt}|${activity.isStale}`;
}

function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
