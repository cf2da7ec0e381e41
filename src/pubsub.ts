import { setMaxListeners } from 'node:events';
import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import type { ErrorCode } from './errors.js';
import type { ActivityKey, StatusSnapshot, UpstreamErrorBody } from './upstream/cleartax.types.js';

/** The one topic: status events of one watched (token hash, entity, activity). */
export const STATUS_TOPIC = 'UPLOAD_ACTIVITY_STATUS';

/**
 * What the StatusWatcher publishes for a watched key. Plain JSON so it can cross
 * process boundaries (Redis) unchanged; never carries the token.
 */
export type StatusEvent =
  | { type: 'snapshot'; snapshot: StatusSnapshot }
  | { type: 'error'; key: ActivityKey; code: ErrorCode; message: string; upstream?: UpstreamErrorBody };

export type AppPubSub = PubSub<{ [STATUS_TOPIC]: [watchKey: string, event: StatusEvent] }>;

/**
 * In-process PubSub (type-graphql's recommended @graphql-yoga/subscription) over
 * an EventTarget without a listener limit: one listener per watched key, and
 * there may be tens of thousands.
 */
export function createAppPubSub(): AppPubSub {
  const eventTarget = new EventTarget();
  setMaxListeners(0, eventTarget);
  return createPubSub({ eventTarget: eventTarget as never });
}
