import { useEffect, useState } from 'react';
import { CombinedGraphQLErrors } from '@apollo/client';
import { useQuery, useSubscription } from '@apollo/client/react';
import { UploadActivitiesDocument, UploadActivitiesStatusChangedDocument, type UploadActivityFieldsFragment } from '../../schema/generated/graphql';
import type { View } from './view';

/** The board: one query for the rows, one subscription that updates them in place (normalised by id). */
export function Board({ view }: { view: View }) {
  const variables = { taxableEntityId: view.taxableEntityId, activityIds: view.activityIds };
  const { data, error, loading } = useQuery(UploadActivitiesDocument, { variables, errorPolicy: 'all' });
  useSubscription(UploadActivitiesStatusChangedDocument, { variables });
  const now = useNow(1000);

  // Per-row errors come with the query's network result; a subscription event that later
  // updates the cache re-renders the rows without them, so they are kept per activity.
  const [rowErrors, setRowErrors] = useState(() => new Map<string, string>());
  useEffect(() => {
    if (!CombinedGraphQLErrors.is(error)) return;
    setRowErrors((current) => {
      const next = new Map(current);
      for (const e of error.errors) {
        const index = e.path?.[1];
        const activityId = typeof index === 'number' ? view.activityIds[index] : undefined;
        if (activityId) next.set(activityId, describe(String(e.extensions?.code ?? ''), e.message));
      }
      return next;
    });
  }, [error, view.activityIds]);
  const wholeError =
    error && !(CombinedGraphQLErrors.is(error) && error.errors.some((e) => typeof e.path?.[1] === 'number'))
      ? describe(CombinedGraphQLErrors.is(error) ? String(error.errors[0]?.extensions?.code ?? '') : 'NETWORK', error.message)
      : undefined;

  return (
    <section className="board" aria-busy={loading}>
      <p className="entity">
        Entity <code>{view.taxableEntityId}</code> · {view.activityIds.length} {view.activityIds.length === 1 ? 'activity' : 'activities'}
      </p>
      {wholeError && (
        <p className="row-error" role="alert">
          {wholeError}
        </p>
      )}
      <ul className="rows">
        {view.activityIds.map((activityId, index) => {
          const activity = data?.uploadActivities?.[index] ?? undefined;
          return (
            <li key={activityId} className="row" data-testid={`row-${activityId}`} data-status={activity?.status ?? (rowErrors.has(activityId) ? 'ERROR' : 'LOADING')}>
              {activity ? <Activity activity={activity} now={now} /> : <Missing activityId={activityId} message={rowErrors.get(activityId) ?? (loading ? 'Loading…' : 'No answer yet')} />}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

const STEPS: Record<string, number> = { INIT: 10, UPLOADED: 30, QUEUED: 50, PROCESSING: 80, PROCESSED: 100, ABORTED: 100 };

function Activity({ activity, now }: { activity: UploadActivityFieldsFragment; now: number }) {
  const progress = activity.status === 'QUEUED' && activity.queuedCount ? Math.max(35, 65 - 5 * activity.queuedCount) : (STEPS[activity.status] ?? 0);
  return (
    <>
      <div className="row-head">
        <span className={`badge ${activity.status.toLowerCase()}`} data-testid="status">
          {activity.status === 'UNKNOWN' ? activity.rawStatus : activity.status}
        </span>
        <code className="id">{activity.activityId}</code>
        {activity.isTerminal && <span className="done">{activity.status === 'PROCESSED' ? 'finished' : 'ended'}</span>}
        {activity.isStale && (
          <span className="stale" title="The gateway cannot reach ClearTax for this activity; this is the last known state.">
            stale
          </span>
        )}
      </div>
      <div className={`progress ${activity.status.toLowerCase()}`} role="progressbar" aria-valuenow={progress} aria-valuemin={0} aria-valuemax={100}>
        <span style={{ width: `${progress}%` }} />
      </div>
      <div className="row-foot">
        {activity.status === 'QUEUED' && activity.queuedCount != null && <span data-testid="queue">#{activity.queuedCount} in queue</span>}
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
      return 'Upstream unavailable: ClearTax did not answer, try again shortly';
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
