import type { StatusSnapshot } from './domain/index.js';

/**
 * The last snapshot read per watched key: what a new subscriber's first event is
 * served from when it is fresh enough. The StatusWatcher writes every read and
 * forgets a key when it stops watching it. In one process it is a Map;
 * multi-instance mode implements the same interface on Redis, with a TTL, so a
 * subscriber on any instance is served without another upstream read.
 */
export interface SnapshotStore {
  /** Never rejects; undefined when nothing is known. */
  get(keyId: string): Promise<StatusSnapshot | undefined>;
  /** Never rejects. */
  set(keyId: string, snapshot: StatusSnapshot): Promise<void>;
  /** Never rejects. */
  delete(keyId: string): Promise<void>;
}

/** The in-process store, which also says how many snapshots it holds. */
export interface LocalSnapshotStore extends SnapshotStore {
  readonly size: number;
}

/** The in-process store: a Map of the last snapshot per watched key. */
export function createLocalSnapshotStore(): LocalSnapshotStore {
  const snapshots = new Map<string, StatusSnapshot>();
  return {
    get: (keyId) => Promise.resolve(snapshots.get(keyId)),
    set(keyId, snapshot) {
      snapshots.set(keyId, snapshot);
      return Promise.resolve();
    },
    delete(keyId) {
      snapshots.delete(keyId);
      return Promise.resolve();
    },
    get size() {
      return snapshots.size;
    },
  };
}
