import DataLoader from 'dataloader';
import { activityKeyId, type ActivityKey, type StatusSnapshot } from '../domain/index.js';
import type { LoadOptions, StatusSource } from './status-source.js';

export type StatusLoader = DataLoader<ActivityKey, StatusSnapshot, string>;

/**
 * A DataLoader for one operation under one token. Every `uploadActivity` field,
 * alias and list entry of the operation that names the same activity shares one
 * load (keys are compared by their id, not by object identity); the distinct keys
 * go to the shared StatusSource as one batch. Never keep one longer than its
 * operation: its cache would serve a status that has since changed.
 */
export function createStatusLoader(
  source: Pick<StatusSource, 'loadMany'>,
  token: string,
  options?: LoadOptions,
): StatusLoader {
  // loadMany answers one entry per key, in key order: a snapshot, or the Error for that key alone.
  return new DataLoader<ActivityKey, StatusSnapshot, string>((keys) => source.loadMany(token, keys, options), {
    cacheKeyFn: activityKeyId,
  });
}
