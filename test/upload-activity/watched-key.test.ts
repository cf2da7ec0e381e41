import { describe, expect, it } from 'vitest';
import { activityKey, ErrorCode, type StatusEvent, type StatusSnapshot } from '../../src/domain/index.js';
import { GatewayError } from '../../src/errors.js';
import { UpstreamError } from '../../src/upstream/upstream-error.js';
import { WatchedKeyState, type KeyDecision } from '../../src/upload-activity/watched-key.js';

const KEY = activityKey('11111111-2222-4333-8444-555555555555', 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
const INTERVAL_MS = 1000;
const STALE_AFTER_MS = 60_000;
const T0 = Date.parse('2024-01-01T00:00:00.000Z');

/** A key's state over a clock the test moves by hand. */
function setup() {
  let time = T0;
  const state = new WatchedKeyState(KEY, { intervalMs: INTERVAL_MS, staleAfterMs: STALE_AFTER_MS, now: () => time });
  const clock = {
    set: (at: number) => void (time = at),
    advance: (ms: number) => void (time += ms),
    get now() {
      return time;
    },
  };
  /** A read made now. */
  const snapshot = (rawStatus = 'QUEUED', queuedCount: number | null = 3): StatusSnapshot => ({
    ...KEY,
    rawStatus,
    errorMessage: null,
    queuedCount,
    fetchedAt: new Date(time).toISOString(),
  });
  return { state, clock, snapshot };
}

const transient = () =>
  new UpstreamError(ErrorCode.UPSTREAM_UNAVAILABLE, 'upstream 503', { isRetryable: true, retryAfterMs: 100 });

/** The decision as a short label: `nothing`, `publish QUEUED:3`, `publish QUEUED:3:stale`, `finish NOT_FOUND`. */
function label(decision: KeyDecision): string {
  if (decision.type === 'nothing') return 'nothing';
  return `${decision.type} ${eventLabel(decision.event)}`;
}

function eventLabel(event: StatusEvent | undefined): string {
  if (!event) return 'none';
  if (event.type === 'error') return event.code;
  return `${event.snapshot.rawStatus}:${event.snapshot.queuedCount}${event.isStale ? ':stale' : ''}`;
}

describe('WatchedKeyState', () => {
  describe('publishing changes', () => {
    it('publishes the first read, then a state once: the same state read again publishes nothing', () => {
      const { state, clock, snapshot } = setup();
      expect(label(state.read(snapshot()))).toBe('publish QUEUED:3');
      clock.advance(500);
      expect(state.read(snapshot())).toEqual({ type: 'nothing', isChange: false });
      clock.advance(500);
      const change = state.read(snapshot('QUEUED', 2));
      expect(label(change)).toBe('publish QUEUED:2');
      expect(change.isChange).toBe(true);
      clock.advance(500);
      expect(label(state.read(snapshot('QUEUED', 2)))).toBe('nothing');
      expect(state.shouldPublishNext).toBe(false);
    });

    it('keeps the newest read as the reference: an older one arriving later does not replace it', () => {
      const { state, clock, snapshot } = setup();
      const older = snapshot('QUEUED', 3);
      clock.advance(1000);
      state.read(snapshot('QUEUED', 2));
      state.received({ type: 'snapshot', snapshot: older });
      expect(state.last?.queuedCount).toBe(2);
    });
  });

  describe('staleness', () => {
    it('turns stale after exactly staleAfterMs of failures: not at staleAfterMs - 1, yes at staleAfterMs, once', () => {
      const { state, clock, snapshot } = setup();
      state.read(snapshot());
      clock.advance(1000);
      const failingSince = clock.now;
      expect(label(state.failed(transient()))).toBe('nothing');
      clock.set(failingSince + STALE_AFTER_MS - 1);
      expect(label(state.failed(transient()))).toBe('nothing');
      expect(state.isStale).toBe(false);
      clock.set(failingSince + STALE_AFTER_MS);
      const stale = state.failed(transient());
      expect(label(stale)).toBe('publish QUEUED:3:stale');
      expect(stale.isFinal).toBe(false);
      expect(state.isStale).toBe(true);
      // Said once: further failures add nothing.
      clock.advance(1);
      expect(label(state.failed(transient()))).toBe('nothing');
      clock.advance(STALE_AFTER_MS * 3);
      expect(label(state.failed(transient()))).toBe('nothing');
    });

    it('counts from the first failure, whatever error a transient failure carries', () => {
      const { state, clock, snapshot } = setup();
      state.read(snapshot());
      const failingSince = clock.now;
      state.failed(new Error('socket hang up')); // not a GatewayError: transient too
      clock.set(failingSince + STALE_AFTER_MS - 1);
      expect(label(state.failed(transient()))).toBe('nothing');
      clock.set(failingSince + STALE_AFTER_MS);
      expect(label(state.failed(new Error('socket hang up')))).toBe('publish QUEUED:3:stale');
    });

    it('says nothing stale while no state is known', () => {
      const { state, clock } = setup();
      state.failed(transient());
      clock.advance(STALE_AFTER_MS * 2);
      expect(label(state.failed(transient()))).toBe('nothing');
      expect(state.isStale).toBe(false);
    });

    it('the next good poll clears it: isStale false published once, and the failure clock starts again', () => {
      const { state, clock, snapshot } = setup();
      state.read(snapshot());
      state.failed(transient());
      clock.advance(STALE_AFTER_MS);
      expect(label(state.failed(transient()))).toBe('publish QUEUED:3:stale');

      // Unchanged state, yet published: it is news that it is not stale any more.
      clock.advance(100);
      const fresh = state.read(snapshot());
      expect(label(fresh)).toBe('publish QUEUED:3');
      expect(fresh.isChange).toBe(false);
      expect(state.isStale).toBe(false);
      clock.advance(100);
      expect(label(state.read(snapshot()))).toBe('nothing');

      // A new outage is timed from its own first failure, not the old one.
      clock.advance(100);
      const failingAgain = clock.now;
      expect(label(state.failed(transient()))).toBe('nothing');
      clock.set(failingAgain + STALE_AFTER_MS - 1);
      expect(label(state.failed(transient()))).toBe('nothing');
      clock.set(failingAgain + STALE_AFTER_MS);
      expect(label(state.failed(transient()))).toBe('publish QUEUED:3:stale');
    });
  });

  describe('the end of a key', () => {
    it.each(['PROCESSED', 'ABORTED'])(
      'a terminal status (%s) finishes the key; nothing is published after it',
      (status) => {
        const { state, clock, snapshot } = setup();
        state.read(snapshot());
        clock.advance(100);
        expect(label(state.read(snapshot(status, 0)))).toBe(`finish ${status}:0`);
        expect(state.isFinished).toBe(true);
        clock.advance(100);
        expect(label(state.read(snapshot('QUEUED', 5)))).toBe('nothing');
        clock.advance(STALE_AFTER_MS * 2);
        expect(label(state.failed(transient()))).toBe('nothing');
        expect(label(state.failed(transient()))).toBe('nothing');
      },
    );

    it('a terminal status read again (no change, nobody waiting) still finishes: it is the last word', () => {
      const { state, clock, snapshot } = setup();
      // Another instance's stored terminal state served the waiting subscribers; then this instance reads it.
      state.takeStored(snapshot('PROCESSED', 0));
      expect(state.shouldPublishNext).toBe(false);
      clock.advance(100);
      const decision = state.read(snapshot('PROCESSED', 0));
      expect(label(decision)).toBe('finish PROCESSED:0');
      expect(decision.isChange).toBe(false);
    });

    it.each([ErrorCode.NOT_FOUND, ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN])(
      'a final error code (%s) finishes the key with that error',
      (code) => {
        const { state, clock, snapshot } = setup();
        state.read(snapshot());
        const decision = state.failed(new GatewayError(code, 'gone', { httpStatus: 404, code: 'X', message: 'm' }));
        expect(label(decision)).toBe(`finish ${code}`);
        expect(decision.isFinal).toBe(true);
        expect(decision.type !== 'nothing' && decision.event).toEqual({
          type: 'error',
          key: KEY,
          code,
          message: 'gone',
          upstream: { httpStatus: 404, code: 'X', message: 'm' },
        });
        expect(state.isFinished).toBe(true);
        clock.advance(100);
        expect(label(state.read(snapshot('QUEUED', 1)))).toBe('nothing');
      },
    );

    it.each([ErrorCode.UPSTREAM_UNAVAILABLE, ErrorCode.RATE_LIMITED, ErrorCode.UPSTREAM_BAD_RESPONSE])(
      'any other error code (%s) is transient: the key goes on',
      (code) => {
        const { state, clock, snapshot } = setup();
        state.read(snapshot());
        const decision = state.failed(new GatewayError(code, 'later'));
        expect(decision).toEqual({ type: 'nothing', isFinal: false });
        expect(state.isFinished).toBe(false);
        clock.advance(100);
        expect(label(state.read(snapshot('QUEUED', 1)))).toBe('publish QUEUED:1');
      },
    );

    it('a final error on a key already finished still says it is final, and publishes nothing', () => {
      const { state } = setup();
      state.finish();
      expect(state.failed(new GatewayError(ErrorCode.NOT_FOUND, 'gone'))).toEqual({ type: 'nothing', isFinal: true });
    });
  });

  describe('a subscriber arriving late', () => {
    it('the first subscriber waits for a state: the first read is published even when the store already had it', () => {
      const { state, clock, snapshot } = setup();
      expect(state.shouldPublishNext).toBe(true);
      state.received({ type: 'snapshot', snapshot: snapshot() });
      clock.advance(100);
      expect(label(state.read(snapshot()))).toBe('publish QUEUED:3');
    });

    it('is handed the known state while it is fresh: up to intervalMs old, not a millisecond more', () => {
      const { state, clock, snapshot } = setup();
      state.read(snapshot());
      clock.advance(INTERVAL_MS);
      expect(eventLabel(state.handOver())).toBe('QUEUED:3');
      clock.advance(1);
      expect(state.handOver()).toBeUndefined();
    });

    it('is handed a stale state however old, marked stale, and a final state however old', () => {
      const stale = setup();
      stale.state.read(stale.snapshot());
      stale.state.failed(transient());
      stale.clock.advance(STALE_AFTER_MS);
      stale.state.failed(transient());
      stale.clock.advance(INTERVAL_MS * 100);
      expect(eventLabel(stale.state.handOver())).toBe('QUEUED:3:stale');

      const finished = setup();
      finished.state.read(finished.snapshot('PROCESSED', 0));
      finished.clock.advance(INTERVAL_MS * 100);
      expect(eventLabel(finished.state.handOver())).toBe('PROCESSED:0');
    });

    it('is handed nothing when no state is known', () => {
      const { state } = setup();
      expect(state.handOver()).toBeUndefined();
    });

    it('gets a fresh stored state, not older than the known one; else the next read is published for it, even unchanged', () => {
      const { state, clock, snapshot } = setup();
      state.read(snapshot());
      clock.advance(INTERVAL_MS + 1);
      expect(state.handOver()).toBeUndefined();

      // Another instance stored a newer read: that serves.
      const stored = snapshot('QUEUED', 2);
      clock.advance(INTERVAL_MS);
      expect(eventLabel(state.handOverStored(stored))).toBe('QUEUED:2');
      expect(state.last).toBe(stored);
      expect(state.shouldPublishNext).toBe(false);

      // Too old: the next read is published even though it is no change.
      clock.advance(1);
      expect(state.handOverStored(stored)).toBeUndefined();
      expect(state.shouldPublishNext).toBe(true);
      const next = state.read(snapshot('QUEUED', 2));
      expect(label(next)).toBe('publish QUEUED:2');
      expect(next.isChange).toBe(false);
      expect(state.shouldPublishNext).toBe(false);
      // Once: the one after is news to nobody.
      clock.advance(100);
      expect(label(state.read(snapshot('QUEUED', 2)))).toBe('nothing');
    });

    it('is not handed a stored state older than the one it knows, however fresh', () => {
      const { state, clock, snapshot } = setup();
      const older = snapshot('QUEUED', 3);
      clock.advance(10);
      state.received({ type: 'snapshot', snapshot: snapshot('QUEUED', 2) });
      expect(state.handOverStored(older)).toBeUndefined();
      expect(state.shouldPublishNext).toBe(true);
      expect(state.last?.queuedCount).toBe(2);
    });

    it('on an instance that does not poll, takes the stored state for its waiting subscribers while fresh', () => {
      const { state, clock, snapshot } = setup();
      expect(state.takeStored(undefined)).toBeUndefined();
      const stored = snapshot();
      clock.advance(INTERVAL_MS + 1);
      expect(state.takeStored(stored)).toBeUndefined();
      expect(state.shouldPublishNext).toBe(true);
      clock.set(T0 + INTERVAL_MS);
      expect(eventLabel(state.takeStored(stored))).toBe('QUEUED:3');
      expect(state.shouldPublishNext).toBe(false);
      expect(state.last).toBe(stored);
    });
  });
});
