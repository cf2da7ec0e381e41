import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  activityKey,
  activityKeyId,
  globalActivityId,
  isFinalErrorCode,
  isFinalEvent,
  isTerminalStatus,
  scopedKeyId,
  statusChanged,
  type StatusSnapshot,
} from '../../src/domain/index.js';

const ENTITY = '0B8C2A7E-5D1F-4C3A-9E6B-7F2D1A4C8E90';
const ACTIVITY = '2B0415DE-1111-4222-8333-444455556666';

const snap = (
  rawStatus: string,
  queuedCount: number | null = 0,
  errorMessage: string | null = null,
): StatusSnapshot => ({
  ...activityKey(ENTITY, ACTIVITY),
  rawStatus,
  queuedCount,
  errorMessage,
  fetchedAt: '2026-01-01T00:00:00.000Z',
});

describe('activity keys', () => {
  it('normalises ids once, so every key built from them agrees whatever the spelling', () => {
    const upper = activityKey(ENTITY, ACTIVITY);
    const lower = activityKey(ENTITY.toLowerCase(), ACTIVITY.toLowerCase());
    expect(upper).toEqual({ taxableEntityId: ENTITY.toLowerCase(), activityId: ACTIVITY.toLowerCase() });
    expect(activityKeyId(upper)).toBe(activityKeyId(lower));
    expect(activityKeyId(upper)).toBe(`${ENTITY.toLowerCase()}:${ACTIVITY.toLowerCase()}`);
    expect(globalActivityId(upper)).toBe(`UploadActivity:${ENTITY.toLowerCase()}:${ACTIVITY.toLowerCase()}`);
  });

  it('scopes a key to a token hash, so two tokens never share one', () => {
    const key = activityKey(ENTITY, ACTIVITY);
    expect(scopedKeyId('hashA', key)).toBe(`hashA:${activityKeyId(key)}`);
    expect(scopedKeyId('hashA', key)).not.toBe(scopedKeyId('hashB', key));
  });
});

describe('status rules', () => {
  it('knows PROCESSED and ABORTED as terminal, nothing else', () => {
    expect(
      ['INIT', 'UPLOADED', 'QUEUED', 'PROCESSING', 'PROCESSED', 'ABORTED', 'NEW_ONE'].filter(isTerminalStatus),
    ).toEqual(['PROCESSED', 'ABORTED']);
  });

  it('sees a change of status, errorMessage or queuedCount, not of fetchedAt', () => {
    const base = snap('QUEUED', 3);
    expect(statusChanged(undefined, base)).toBe(true);
    expect(statusChanged(base, { ...base, fetchedAt: '2030-01-01T00:00:00.000Z' })).toBe(false);
    expect(statusChanged(base, { ...base, queuedCount: 2 })).toBe(true);
    expect(statusChanged(base, { ...base, queuedCount: null })).toBe(true);
    expect(statusChanged(base, { ...base, errorMessage: 'x' })).toBe(true);
    expect(statusChanged(snap('NEW_ONE'), snap('OTHER_NEW'))).toBe(true);
  });

  it('ends a key on a terminal state or an error, and only after NOT_FOUND, UNAUTHENTICATED or FORBIDDEN does an error end a poller', () => {
    expect(isFinalEvent({ type: 'snapshot', snapshot: snap('QUEUED') })).toBe(false);
    expect(isFinalEvent({ type: 'snapshot', snapshot: snap('ABORTED', 0, 'bad') })).toBe(true);
    expect(
      isFinalEvent({ type: 'error', key: activityKey(ENTITY, ACTIVITY), code: ErrorCode.NOT_FOUND, message: 'gone' }),
    ).toBe(true);
    expect(Object.values(ErrorCode).filter(isFinalErrorCode)).toEqual([
      ErrorCode.NOT_FOUND,
      ErrorCode.UNAUTHENTICATED,
      ErrorCode.FORBIDDEN,
    ]);
  });
});
