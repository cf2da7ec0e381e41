import { useEffect, useState } from 'react';
import type { UploadActivityFieldsFragment } from '../../schema/generated/graphql';
import type { Group } from './rows';
import { ago, clockTime, duration, fullTimestamp } from './time';
import type { Seen } from './timeline';

/** An error that reached a row (see Board.tsx), to show in its place or below its last known state. */
export interface RowProblem {
  code: string;
  message: string;
}

export interface RowProps {
  activityId: string;
  activity: UploadActivityFieldsFragment | undefined;
  problem: RowProblem | undefined;
  group: Group;
  isLoading: boolean;
  /** What the board saw of this row, oldest first. */
  seen: readonly Seen[] | undefined;
  now: number;
  onRemove: (activityId: string) => void;
}

/** One watched activity: its state, when it last changed, what the board saw of it, and its actions. */
export function Row({ activityId, activity, problem, group, isLoading, seen, now, onRemove }: RowProps) {
  const idElement = `id-${activityId}`;
  return (
    <li
      className={`row ${group}`}
      data-testid={`row-${activityId}`}
      data-status={activity?.status ?? (problem ? 'ERROR' : 'LOADING')}
      data-group={group}
      {...(problem ? { 'data-problem': problem.code } : {})}
    >
      <div className="row-head">
        {activity ? (
          <span className={`badge ${activity.status.toLowerCase()}`} data-testid="status">
            {activity.status === 'UNKNOWN' ? activity.rawStatus : activity.status}
          </span>
        ) : (
          <span className="badge error">{problem ? 'ERROR' : '…'}</span>
        )}
        <code className="id" id={idElement}>
          {activityId}
        </code>
        {activity?.isTerminal && <span className="done">{activity.status === 'PROCESSED' ? 'finished' : 'ended'}</span>}
        {activity?.isStale && (
          <span
            className="stale"
            title="The gateway cannot reach ClearTax for this activity; this is the last known state."
          >
            stale
          </span>
        )}
        <span className="row-actions">
          <CopyButton text={activityId} describedBy={idElement} />
          <button
            type="button"
            className="quiet"
            aria-label={`Stop watching ${activityId}`}
            title="Stop watching"
            onClick={() => onRemove(activityId)}
          >
            ✕
          </button>
        </span>
      </div>
      {activity && <Progress activity={activity} />}
      <div className="row-foot">
        {activity?.status === 'QUEUED' && activity.queuedCount != null && (
          <span data-testid="queue">#{activity.queuedCount} in queue</span>
        )}
        {activity?.status === 'ABORTED' && activity.errorMessage && (
          <span className="abort" data-testid="error-message">
            {activity.errorMessage}
          </span>
        )}
        <Since seen={seen} now={now} />
        {activity && <span className="read">read {ago(now, Date.parse(activity.fetchedAt))}</span>}
      </div>
      {(problem || !activity) && (
        <p className="row-error" data-testid="row-error">
          {problem
            ? `${describe(problem.code, problem.message)}${activity ? ': showing the last known state' : ''}`
            : isLoading
              ? 'Loading…'
              : 'No answer yet'}
        </p>
      )}
      <Timeline seen={seen} />
    </li>
  );
}

const STEPS: Record<string, number> = {
  INIT: 10,
  UPLOADED: 30,
  QUEUED: 50,
  PROCESSING: 80,
  PROCESSED: 100,
  ABORTED: 100,
};

function Progress({ activity }: { activity: UploadActivityFieldsFragment }) {
  const progress =
    activity.status === 'QUEUED' && activity.queuedCount
      ? Math.max(35, 65 - 5 * activity.queuedCount)
      : (STEPS[activity.status] ?? 0);
  return (
    <div
      className={`progress ${activity.status.toLowerCase()}`}
      role="progressbar"
      aria-label="Progress"
      aria-valuenow={progress}
      aria-valuemin={0}
      aria-valuemax={100}
    >
      <span style={{ width: `${progress}%` }} />
    </div>
  );
}

/** The clock time of the last change, with the full timestamp on hover or focus, and how long it has lasted. */
function Since({ seen, now }: { seen: readonly Seen[] | undefined; now: number }) {
  const last = seen?.[seen.length - 1];
  if (!last) return null;
  return (
    <span className="since" data-testid="since">
      changed <Clock at={last.at} testId="changed-at" /> · {last.state} for {duration(now - last.at)}
    </span>
  );
}

function Clock({ at, testId }: { at: number; testId?: string }) {
  const full = fullTimestamp(at);
  return (
    <time
      className="clock"
      dateTime={new Date(at).toISOString()}
      title={full}
      data-full={full}
      tabIndex={0}
      {...(testId ? { 'data-testid': testId } : {})}
    >
      {clockTime(at)}
    </time>
  );
}

/** The states this board saw, each with its clock time (the API keeps no history). */
function Timeline({ seen }: { seen: readonly Seen[] | undefined }) {
  if (!seen || seen.length < 2) return null;
  return (
    <ol className="timeline" aria-label="States seen by this board" data-testid="timeline">
      {seen.map(({ state, at }) => (
        <li key={`${state}-${at}`}>
          <span className="timeline-state">{state}</span> {clockTime(at)}
        </li>
      ))}
    </ol>
  );
}

/** Copies an id to the clipboard and says so; falls back to a selection copy where the Clipboard API is missing. */
function CopyButton({ text, describedBy }: { text: string; describedBy: string }) {
  const [result, setResult] = useState<'copied' | 'failed' | undefined>();
  useEffect(() => {
    if (!result) return;
    const timer = setTimeout(() => setResult(undefined), 2000);
    return () => clearTimeout(timer);
  }, [result]);
  return (
    <>
      <button
        type="button"
        className="quiet"
        aria-label="Copy activity id"
        aria-describedby={describedBy}
        onClick={() => {
          copy(text).then(
            () => setResult('copied'),
            () => setResult('failed'),
          );
        }}
      >
        {result === 'copied' ? 'Copied' : 'Copy'}
      </button>
      <span className="visually-hidden" role="status">
        {result === 'copied' ? 'Activity id copied' : result === 'failed' ? 'Could not copy the activity id' : ''}
      </span>
    </>
  );
}

async function copy(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  // Plain HTTP on another host is not a secure context: no Clipboard API.
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  const isDone = document.execCommand('copy');
  area.remove();
  if (!isDone) throw new Error('copy was refused');
}

export function describe(code: string, message: string): string {
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
