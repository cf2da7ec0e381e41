import DataLoader from 'dataloader';
import type { ActivityKey, StatusSnapshot } from '../upstream/cleartax.types.js';
import type { GetStatusOptions } from '../upstream/cleartax-client.js';
import type { StatusSource } from './status-source.js';

export type StatusLoader = DataLoader<ActivityKey, StatusSnapshot, string>;

/**
 * A DataLoader for one operation (or one poll tick) under one token. Every
 * `uploadActivity` field, alias and list entry of the operation that names the same
 * activity shares one load; the distinct keys of a tick go to the shared
 * StatusSource together. Never keep one longer than its operation: its cache would
 * serve a status that has since changed.
 */
export function createStatusLoader(source: StatusSource, token: string, options?: GetStatusOptions): StatusLoader {
  return new DataLoader<ActivityKey, StatusSnapshot, string>(
    (keys) =>
      // One entry per key, in key order: a snapshot, or the Error for that key alone.
      Promise.all(keys.map((key) => source.load(token, key, options).catch((error: unknown) => toError(error)))),
    { cacheKeyFn: (key) => `${key.taxableEntityId}:${key.activityId}` },
  );
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
