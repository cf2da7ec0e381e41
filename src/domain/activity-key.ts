/**
 * The one module that builds keys. Ids are normalised once, where they enter
 * (`activityKey`), and every other key (the shared read's, the watcher's, the
 * simulator's, the client cache id) is derived from a normalised `ActivityKey`.
 */

/** Identifies one upload activity of one taxable entity. Build it with `activityKey`. */
export interface ActivityKey {
  readonly taxableEntityId: string;
  readonly activityId: string;
}

/** UUIDs are case-insensitive: one spelling per activity keeps every key deduplicated. */
export function activityKey(taxableEntityId: string, activityId: string): ActivityKey {
  return { taxableEntityId: taxableEntityId.toLowerCase(), activityId: activityId.toLowerCase() };
}

/** `entity:activity`: the key of an activity whoever reads it (per-operation loaders, the simulator). */
export function activityKeyId(key: ActivityKey): string {
  return `${key.taxableEntityId}:${key.activityId}`;
}

/**
 * `tokenHash:entity:activity`: the key of an activity as one upstream token sees it.
 * Everything that caches, coalesces or polls across requests uses it, so one
 * token's answer never reaches another token; only the token's hash is in it.
 */
export function scopedKeyId(tokenHash: string, key: ActivityKey): string {
  return `${tokenHash}:${activityKeyId(key)}`;
}

/** The stable, global GraphQL `id` of an activity ("UploadActivity:<entity>:<activity>"). */
export function globalActivityId(key: ActivityKey): string {
  return `UploadActivity:${activityKeyId(key)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The key a global `id` names ("UploadActivity:<entity uuid>:<activity uuid>"), or undefined when it names none. */
export function parseGlobalActivityId(id: unknown): ActivityKey | undefined {
  if (typeof id !== 'string') return undefined;
  const [type, taxableEntityId, activityId, ...rest] = id.split(':');
  if (type !== 'UploadActivity' || rest.length > 0 || !UUID.test(taxableEntityId ?? '') || !UUID.test(activityId ?? ''))
    return undefined;
  return activityKey(taxableEntityId!, activityId!);
}
