import { positiveInt } from '../options.js';

/**
 * When each watched key is polled next. One timer for all keys (never one per
 * key or per subscriber); a key is handed out through `onDue` and is not due
 * again until its read settles, so a key is never read twice at once and a slow
 * key never holds the others.
 *
 * Interval per key: `intervalMs` after a change, growing by `growthFactor` per
 * unchanged poll up to `maxIntervalMs`. After a failure: exponential backoff with
 * jitter, never sooner than the failure's Retry-After, and never later than
 * `maxIntervalMs` (a huge Retry-After must not freeze a subscription).
 */
export interface PollSchedulerOptions {
  /** Interval right after a change (POLL_INTERVAL_MS). */
  intervalMs: number;
  /** Ceiling of the adaptive interval, of error backoff and of any Retry-After wait (POLL_MAX_INTERVAL_MS). */
  maxIntervalMs: number;
  /** How much the interval grows per unchanged poll. @default 1.5 */
  growthFactor?: number;
  /** Called for each key that is due. Its read must end with exactly one `settle` (or the key's `remove`). */
  onDue(keyId: string): void;
  /** Jitter source in [0, 1). @default Math.random */
  random?: () => number;
}

/** How a poll ended, which decides when the next one is due. */
export type PollOutcome =
  | { type: 'changed' }
  | { type: 'unchanged' }
  /** Another instance polls this key (cluster): check again after one base interval. */
  | { type: 'skipped' }
  | { type: 'failed'; retryAfterMs?: number };

export interface PollScheduler {
  /** Schedules a new key, due now. No-op for a key already scheduled. */
  add(keyId: string): void;
  /** Stops scheduling a key; the settle of a read in flight is then ignored. */
  remove(keyId: string): void;
  /** Makes a key due now (a subscriber waits for a current state). No-op while its read is in flight. */
  expedite(keyId: string): void;
  /** Reports how the read `onDue` started has ended, and schedules the next one. */
  settle(keyId: string, outcome: PollOutcome): void;
  /** Milliseconds until a key is due; 0 while due or in flight; undefined when not scheduled. */
  dueIn(keyId: string): number | undefined;
  /** Clears the timer; nothing is due any more. Idempotent. */
  stop(): void;
  /** Keys scheduled right now. */
  readonly size: number;
}

/** setTimeout's largest delay; a longer one overflows to 1 ms and spins. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface KeyState {
  intervalMs: number;
  failures: number;
  dueAt: number;
  isInFlight: boolean;
}

export function createPollScheduler(options: PollSchedulerOptions): PollScheduler {
  const { onDue } = options;
  const intervalMs = positiveInt('intervalMs', options.intervalMs);
  const maxIntervalMs = positiveInt('maxIntervalMs', options.maxIntervalMs);
  const growthFactor = options.growthFactor ?? 1.5;
  const random = options.random ?? Math.random;
  const keys = new Map<string, KeyState>();
  let timer: NodeJS.Timeout | undefined;
  let timerDueAt = Infinity;
  let isStopped = false;

  /** Arms the one timer for `dueAt` unless it already fires sooner. O(1), so adding keys stays cheap. */
  function armFor(dueAt: number): void {
    if (isStopped || (timer && timerDueAt <= dueAt)) return;
    if (timer) clearTimeout(timer);
    timerDueAt = dueAt;
    timer = setTimeout(fire, Math.min(MAX_TIMER_MS, Math.max(0, dueAt - Date.now())));
  }

  function fire(): void {
    timer = undefined;
    timerDueAt = Infinity;
    const now = Date.now();
    const due: string[] = [];
    let earliest = Infinity;
    for (const [keyId, state] of keys) {
      if (state.isInFlight) continue;
      if (state.dueAt <= now) {
        state.isInFlight = true;
        due.push(keyId);
      } else if (state.dueAt < earliest) earliest = state.dueAt;
    }
    if (earliest !== Infinity) armFor(earliest);
    for (const keyId of due) onDue(keyId);
  }

  function nextDelay(state: KeyState, outcome: PollOutcome): number {
    switch (outcome.type) {
      case 'changed':
        state.failures = 0;
        state.intervalMs = intervalMs;
        return state.intervalMs;
      case 'unchanged':
        state.failures = 0;
        state.intervalMs = Math.min(maxIntervalMs, Math.round(state.intervalMs * growthFactor));
        return state.intervalMs;
      case 'skipped':
        return intervalMs;
      case 'failed': {
        state.failures += 1;
        const backoff = Math.round(intervalMs * 2 ** state.failures * (0.75 + random() * 0.5));
        return Math.min(maxIntervalMs, Math.max(backoff, outcome.retryAfterMs ?? 0));
      }
    }
  }

  return {
    add(keyId) {
      if (isStopped || keys.has(keyId)) return;
      const now = Date.now();
      keys.set(keyId, { intervalMs, failures: 0, dueAt: now, isInFlight: false });
      armFor(now);
    },
    remove(keyId) {
      keys.delete(keyId);
    },
    expedite(keyId) {
      const state = keys.get(keyId);
      if (!state || state.isInFlight) return;
      state.dueAt = Math.min(state.dueAt, Date.now());
      armFor(state.dueAt);
    },
    settle(keyId, outcome) {
      const state = keys.get(keyId);
      if (!state || !state.isInFlight) return;
      state.isInFlight = false;
      state.dueAt = Date.now() + nextDelay(state, outcome);
      armFor(state.dueAt);
    },
    dueIn(keyId) {
      const state = keys.get(keyId);
      if (!state) return undefined;
      return state.isInFlight ? 0 : Math.max(0, state.dueAt - Date.now());
    },
    stop() {
      isStopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      keys.clear();
    },
    get size() {
      return keys.size;
    },
  };
}
