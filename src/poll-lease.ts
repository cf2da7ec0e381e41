/**
 * Who polls a watched key. The StatusWatcher asks before every poll; only the
 * holder reads upstream, and every instance's subscribers get its events through
 * the PubSub. In one process there is no one to share with: always granted.
 * Multi-instance mode implements the same interface on Redis (`SET NX PX`).
 */
export interface PollLease {
  /** Whether this instance should poll `keyId` now (takes or renews the lease). Never rejects. */
  claim(keyId: string): Promise<boolean>;
  /** Gives the lease up: this instance's last subscriber of `keyId` left, or the key ended. Never rejects. */
  release(keyId: string): Promise<void>;
}

/** The in-process lease: this instance is the only one, so it always polls. */
export function createLocalPollLease(): PollLease {
  return {
    claim: () => Promise.resolve(true),
    release: () => Promise.resolve(),
  };
}
