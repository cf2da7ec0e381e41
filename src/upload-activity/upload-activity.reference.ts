import { ErrorCode, parseGlobalActivityId } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import type { UploadActivityContext } from './upload-activity.context.js';
import { toUploadActivity, type UploadActivity } from './upload-activity.type.js';

/**
 * Federation's `__resolveReference` for `UploadActivity`: a router's representation
 * (`{ __typename, id }`) read through the same loader, coalescing and access check as
 * `uploadActivities`, so 100 representations of 20 activities cost 20 upstream reads.
 * Async on purpose: a rejection fails its own `_entities` item (null with its error),
 * where a synchronous throw would null the whole list.
 */
export async function resolveUploadActivityReference(
  reference: { id?: unknown },
  context: UploadActivityContext,
): Promise<UploadActivity> {
  const key = parseGlobalActivityId(reference.id);
  if (!key) {
    throw new GatewayError(
      ErrorCode.BAD_USER_INPUT,
      'An UploadActivity representation needs an id "UploadActivity:<taxableEntityId>:<activityId>" (two UUIDs)',
    );
  }
  context.checkEntity(key.taxableEntityId);
  return toUploadActivity(await context.statusLoader().load(key));
}
