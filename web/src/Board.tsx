import { useEffect, useMemo, useRef, useState } from 'react';
import { CombinedGraphQLErrors } from '@apollo/client';
import { useFragment, useQuery, useSubscription } from '@apollo/client/react';
import {
  UploadActivitiesDocument,
  UploadActivitiesStatusChangedDocument,
  UploadActivityFieldsFragmentDoc,
  type UploadActivityFieldsFragment,
} from '../../schema/generated/graphql';
import { viewHref, type View } from './view';

/** An error that reached a row, and the state the row had when it arrived. */
interface Problem {
  code: string;
  message: string;
  /** The row's state (`versionOf`) when the error arrived: any newer state supersedes the error. */
  over: string | undefined;
}

/**
 * The board: one query for the rows, one subscription that updates them (normalised by
 * id). Each row shows the latest thing that reached it by any path: its state in the
 * cache (the newer read of query answers and subscription events, see apollo.ts), or
 * an error that arrived after that state. A re-query (an id added, a new demo upload)
 * that fails for a row therefore shows its error only until a newer state arrives.
 */
export function Board({ view, onUpstreamDown }: { view: View; onUpstreamDown: (isDown: boolean) => void }) {
  const variables = { taxableEntityId: view.taxableEntityId, activityIds: view.activityIds };
  const { data, error, loading } = useQuery(UploadActivitiesDocument, { variables, errorPolicy: 'all' });
  useSubscription(UploadActivitiesStatusChangedDocument, { variables });
  const now = useNow(1000);

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
    const record = (index: number, code: string, message: string) => {
      const activityId = view.activityIds[index];
      if (activityId) found.set(activityId, { code, message, over: versionOf(activities[index]) });
    };
    const everyRow = (code: string, message: string) =>
      view.activityIds.forEach((_, index) => record(index, code, message));
    if (CombinedGraphQLErrors.is(error)) {
      for (const e of error.errors) {
        const index = e.path?.[1];
        const code = String(e.extensions?.code ?? '');
        if (typeof index === 'number') record(index, code, e.message);
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
    return { activityId, activity, problem: isCurrent ? problem : undefined };
  });

  const isUpstreamDown = rows.some(({ activity, problem }) =>
    problem ? problem.code === 'UPSTREAM_UNAVAILABLE' : activity?.isStale === true && !activity.isTerminal,
  );
  useEffect(() => onUpstreamDown(isUpstreamDown), [isUpstreamDown, onUpstreamDown]);
  useEffect(() => () => onUpstreamDown(false), [onUpstreamDown]);

  return (
    <section className="board" aria-busy={loading}>
      <p className="entity">
        Entity <code>{view.taxableEntityId}</code> · {view.activityIds.length}{' '}
        {view.activityIds.length === 1 ? 'activity' : 'activities'} ·{' '}
        <a className="view-link" href={viewHref(view)} data-testid="view-link">
          link to this view
        </a>
      </p>
      <ul className="rows">
        {rows.map(({ activityId, activity, problem }) => (
          <li
            key={activityId}
            className="row"
            data-testid={`row-${activityId}`}
            data-status={activity?.status ?? (problem ? 'ERROR' : 'LOADING')}
            {...(problem ? { 'data-problem': problem.code } : {})}
          >
            {activity ? (
              <>
                <Activity activity={activity} now={now} />
                {problem && (
                  <p className="row-error" data-testid="row-error">
                    {describe(problem.code, problem.message)}: showing the last known state
                  </p>
                )}
              </>
            ) : (
              <Missing
                activityId={activityId}
                message={problem ? describe(problem.code, problem.message) : loading ? 'Loading…' : 'No answer yet'}
              />
            )}
          </li>
        ))}
      </ul>
    </section>
  );
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

const STEPS: Record<string, number> = {
  INIT: 10,
  UPLOADED: 30,
  QUEUED: 50,
  PROCESSING: 80,
  PROCESSED: 100,
  ABORTED: 100,
};

function Activity({ activity, now }: { activity: UploadActivityFieldsFragment; now: number }) {
  const progress =
    activity.status === 'QUEUED' && activity.queuedCount
      ? Math.max(35, 65 - 5 * activity.queuedCount)
      : (STEPS[activity.status] ?? 0);
  return (
    <>
      <div className="row-head">
        <span className={`badge ${activity.status.toLowerCase()}`} data-testid="status">
          {activity.status === 'UNKNOWN' ? activity.rawStatus : activity.status}
        </span>
        <code className="id">{activity.activityId}</code>
        {activity.isTerminal && <span className="done">{activity.status === 'PROCESSED' ? 'finished' : 'ended'}</span>}
        {activity.isStale && (
          <span
            className="stale"
            title="The gateway cannot reach ClearTax for this activity; this is the last known state."
          >
            stale
          </span>
        )}
      </div>
      <div
        className={`progress ${activity.status.toLowerCase()}`}
        role="progressbar"
        aria-valuenow={progress}
        aria-valuemin={0}
        aria-valuemax={100}
      >
        <span style={{ width: `${progress}%` }} />
      </div>
      <div className="row-foot">
        {activity.status === 'QUEUED' && activity.queuedCount != null && (
          <span data-testid="queue">#{activity.queuedCount} in queue</span>
        )}
        {activity.status === 'ABORTED' && activity.errorMessage && (
          <span className="abort" data-testid="error-message">
            {activity.errorMessage}
          </span>
        )}
        <span className="read">read {ago(now, activity.fetchedAt)}</span>
      </div>
    </>
  );
}

function Missing({ activityId, message }: { activityId: string; message: string }) {
  return (
    <>
      <div className="row-head">
        <span className="badge error">?</span>
        <code className="id">{activityId}</code>
      </div>
      <p className="row-error" data-testid="row-error">
        {message}
      </p>
    </>
  );
}

function describe(code: string, message: string): string {
  switch (code) {
    case 'NOT_FOUND':
      return 'Not found: ClearTax has no such activity for this entity';
    case 'FORBIDDEN':
      return 'Forbidden: you may not read this entity';
    case 'UNAUTHENTICATED':
      return 'Sign-in needed: the credentials were refused';
    case 'UPSTREAM_UNAVAILABLE':
      return 'Upstream unavailable: ClearTax did not answer';
    case 'RATE_LIMITED':
      return 'Too many reads: slowing down';
    default:
      return message;
  }
}

function ago(now: number, iso: string): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return seconds < 2 ? 'just now' : seconds < 90 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
}

function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
