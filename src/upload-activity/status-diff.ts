import type { StatusSnapshot } from '../upstream/cleartax.types.js';

/**
 * Whether `next` is news to someone who last saw `prev`: a change of status
 * (compared verbatim, so two undocumented values differ), errorMessage or
 * queuedCount. `fetchedAt` alone is not a change.
 */
export function statusChanged(prev: StatusSnapshot | undefined, next: StatusSnapshot): boolean {
  return (
    prev === undefined ||
    prev.rawStatus !== next.rawStatus ||
    prev.errorMessage !== next.errorMessage ||
    prev.queuedCount !== next.queuedCount
  );
}
