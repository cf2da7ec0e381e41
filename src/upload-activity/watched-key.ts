import {
  ErrorCode,
  isFinalErrorCode,
  isFinalEvent,
  isTerminalStatus,
  snapshotEvent,
  statusChanged,
  type ActivityKey,
  type StatusEvent,
  type StatusSnapshot,
} from '../domain/index.js';
import { GatewayError } from '../errors.js';

export interface WatchedKeyStateOptions {
  /** The age up to which a known state serves a new subscriber (POLL_INTERVAL_MS). */
  intervalMs: number;
  /** Failed polling time after which the last state goes out with isStale: true (STALE_AFTER_MS). */
  staleAfterMs: number;
  /** The clock, epoch ms: `Date.now` in the watcher, a hand-moved one in tests, so every threshold is testable exactly. */
  now: () => number;
}

/** What the watcher must do after a read or a failure. */
export type KeyDecision =
  | { type: 'nothing' }
  | { type: 'publish'; event: StatusEvent }
  /** Publish this final event (terminal state or final error); the key is finished: poll it no more. */
  | { type: 'finish'; event: StatusEvent };

/** A read's decision, plus whether the state changed (which sets the next poll interval). */
export type ReadDecision = KeyDecision & { isChange: boolean };

/** A failure's decision, plus whether its error ends the key (then there is no backoff: it is not polled again). */
export type FailureDecision = KeyDecision & { isFinal: boolean };

const NOTHING: KeyDecision = { type: 'nothing' };

/**
 * One watched key's rules, apart from any I/O: what is news, when the state turns
 * stale and back, what ends the key, and what a subscriber arriving late gets. The
 * watcher does the polling, the PubSub, the lease and the store, and acts on what
 * these methods return; here the rules can be pinned exactly with a hand-moved clock.
 */
export class WatchedKeyState {
  private lastSeen: StatusSnapshot | undefined;
  // Its first subscriber waits for a state (the first read publishes anyway).
  private publishNext = true;
  private finished = false;
  private failingSince: number | undefined;
  private stale = false;

  constructor(
    readonly key: ActivityKey,
    private readonly options: WatchedKeyStateOptions,
  ) {}

  /** The newest state this instance knows, read or received: the reference for change detection. */
  get last(): StatusSnapshot | undefined {
    return this.lastSeen;
  }

  /** A subscriber waits for a current state: the next read is published even if unchanged. */
  get shouldPublishNext(): boolean {
    return this.publishNext;
  }

  /** A final event went out (or the key was retired): no more polls, no more publishes. */
  get isFinished(): boolean {
    return this.finished;
  }

  /** Subscribers were told the state is stale; the next good poll tells them it is not. */
  get isStale(): boolean {
    return this.stale;
  }

  /** Read no longer than one interval ago: good enough for a new subscriber without another read. */
  isFresh(snapshot: StatusSnapshot | undefined): snapshot is StatusSnapshot {
    return snapshot !== undefined && this.options.now() - Date.parse(snapshot.fetchedAt) <= this.options.intervalMs;
  }

  /** A good poll: publishes a change, the end of staleness, a state someone waits for, or a terminal state. */
  read(snapshot: StatusSnapshot): ReadDecision {
    if (this.finished) return { ...NOTHING, isChange: false };
    const isChange = statusChanged(this.lastSeen, snapshot);
    const wasStale = this.stale;
    this.failingSince = undefined;
    this.stale = false;
    this.remember(snapshot);
    if (isChange || wasStale || this.publishNext || isTerminalStatus(snapshot.rawStatus)) {
      this.publishNext = false;
      return { ...this.decide(snapshotEvent(snapshot)), isChange };
    }
    return { ...NOTHING, isChange };
  }

  /**
   * A failed poll. A final error code ends the key with that error; anything else
   * (5xx, timeout, 429, unreadable body) keeps it, and once polls have failed for
   * staleAfterMs the last known state goes out once, marked stale.
   */
  failed(error: unknown): FailureDecision {
    const code = error instanceof GatewayError ? error.code : ErrorCode.INTERNAL_SERVER_ERROR;
    const isFinal = error instanceof GatewayError && isFinalErrorCode(code);
    if (this.finished) return { ...NOTHING, isFinal };
    if (isFinal) {
      const event: StatusEvent = {
        type: 'error',
        key: this.key,
        code,
        message: error.message,
        ...(error.upstream ? { upstream: error.upstream } : {}),
      };
      return { ...this.decide(event), isFinal };
    }
    const now = this.options.now();
    this.failingSince ??= now;
    if (!this.stale && this.lastSeen && now - this.failingSince >= this.options.staleAfterMs) {
      this.stale = true;
      return { ...this.decide(snapshotEvent(this.lastSeen, true)), isFinal };
    }
    return { ...NOTHING, isFinal };
  }

  /** An event from the key's feed (this instance's publish or another's): it becomes the reference if newer. */
  received(event: StatusEvent): void {
    if (event.type === 'snapshot') this.remember(event.snapshot);
  }

  /** The key is gone (final event delivered, last subscriber left, or stop). */
  finish(): void {
    this.finished = true;
  }

  /**
   * A further subscriber joined: the state to hand it now, when the known one will
   * do (fresh, final, or stale, which stays the truth until a good poll); undefined
   * when the store must be asked (`handOverStored`).
   */
  handOver(): StatusEvent | undefined {
    const last = this.lastSeen;
    if (last && (this.isFresh(last) || this.finished || this.stale)) return snapshotEvent(last, this.stale);
    return undefined;
  }

  /**
   * What the store held for a further subscriber: its state, when fresh and not older
   * than the known one; else undefined, and the next read is published for it.
   */
  handOverStored(stored: StatusSnapshot | undefined): StatusEvent | undefined {
    if (this.isFresh(stored) && (!this.lastSeen || this.lastSeen.fetchedAt <= stored.fetchedAt)) {
      this.remember(stored);
      return snapshotEvent(stored);
    }
    this.publishNext = true;
    return undefined;
  }

  /**
   * Another instance polls the key and a subscriber here waits: the state that
   * instance stored serves it, when fresh; undefined means read once here.
   */
  takeStored(stored: StatusSnapshot | undefined): StatusEvent | undefined {
    if (!this.isFresh(stored)) return undefined;
    this.publishNext = false;
    this.remember(stored);
    return snapshotEvent(stored);
  }

  /** Remembers the newest state seen, by read time, so an older one never replaces it. */
  private remember(snapshot: StatusSnapshot): void {
    if (!this.lastSeen || this.lastSeen.fetchedAt <= snapshot.fetchedAt) this.lastSeen = snapshot;
  }

  private decide(event: StatusEvent): KeyDecision {
    if (!isFinalEvent(event)) return { type: 'publish', event };
    this.finished = true;
    return { type: 'finish', event };
  }
}
