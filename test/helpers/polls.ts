import { expect } from 'vitest';
import { UploadActivityStatusChangedDocument } from '../../schema/generated/graphql.js';
import { ENTITY, type Stack } from './stack.js';
import { connect, record } from './ws-client.js';

/** Upstream requests the simulator has seen for one activity of ENTITY. */
export function requestsFor(stack: Pick<Stack, 'simulator'>, activityId: string): number {
  return stack.simulator.stats.byActivity.get(`${ENTITY}:${activityId}`) ?? 0;
}

/**
 * Waits until a fresh sentinel activity, watched by its own subscriber under the
 * same configuration, has been polled `count` times: proof that that many poll
 * intervals have passed, without sleeping a guessed number of milliseconds. A key
 * that were still polled would have been polled about as often meanwhile.
 */
export async function letPollsPass(stack: Pick<Stack, 'app' | 'simulator'>, count: number): Promise<void> {
  const sentinel = stack.simulator.createActivity({
    taxableEntityId: ENTITY,
    status: 'QUEUED',
    queuedCount: 1,
    isAuto: false,
  });
  const client = connect(stack.app.url);
  const sub = record(client, UploadActivityStatusChangedDocument, {
    taxableEntityId: ENTITY,
    activityId: sentinel.activityId,
  });
  await expect
    .poll(() => requestsFor(stack, sentinel.activityId), { timeout: 10_000, interval: 5 })
    .toBeGreaterThanOrEqual(count);
  sub.unsubscribe();
  await client.dispose();
}
