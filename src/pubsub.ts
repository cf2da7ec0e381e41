import { setMaxListeners } from 'node:events';
import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import type { StatusEvent } from './domain/index.js';

/** The one topic: status events of one watched (token hash, entity, activity), by its scoped key id. */
export const STATUS_TOPIC = 'UPLOAD_ACTIVITY_STATUS';

export type AppPubSub = PubSub<{ [STATUS_TOPIC]: [watchKey: string, event: StatusEvent] }>;

/**
 * In-process PubSub (type-graphql's recommended @graphql-yoga/subscription) over
 * an EventTarget without a listener limit: one listener per watched key, and
 * there may be tens of thousands. Multi-instance mode passes an EventTarget over
 * Redis pub/sub (src/cluster/redis-event-target.ts); nothing else changes.
 */
export function createAppPubSub(eventTarget?: EventTarget): AppPubSub {
  const target = eventTarget ?? new EventTarget();
  if (!eventTarget) setMaxListeners(0, target);
  return createPubSub({ eventTarget: target as never });
}
