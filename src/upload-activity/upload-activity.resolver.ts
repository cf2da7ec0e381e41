import 'reflect-metadata';
import { Args, Ctx, Query, Resolver } from 'type-graphql';
import { BadUserInputError } from '../errors.js';
import type { RequestContext } from '../context.js';
import type { ActivityKey } from '../upstream/cleartax.types.js';
import { UploadActivitiesArgs, UploadActivityArgs } from './upload-activity.args.js';
import { UploadActivity, toUploadActivity } from './upload-activity.type.js';

export interface UploadActivityResolverOptions {
  maxActivityIds: number;
}

/** UUIDs are case-insensitive; one spelling per activity keeps keys deduplicated. */
export function activityKey(taxableEntityId: string, activityId: string): ActivityKey {
  return { taxableEntityId: taxableEntityId.toLowerCase(), activityId: activityId.toLowerCase() };
}

/**
 * Thin by design: check arguments, resolve the token, ask the operation's loader.
 * Errors are thrown (or returned per list item) as they are; `maskError` gives them
 * their contract code on the way out.
 */
@Resolver(() => UploadActivity)
export class UploadActivityResolver {
  constructor(private readonly options: UploadActivityResolverOptions) {}

  @Query(() => UploadActivity, {
    nullable: true,
    description: 'The current status of one upload activity, read from ClearTax (terminal states may come from cache).',
  })
  async uploadActivity(
    @Args(() => UploadActivityArgs) { taxableEntityId, activityId }: UploadActivityArgs,
    @Ctx() context: RequestContext,
  ): Promise<UploadActivity> {
    const snapshot = await context.statusLoader().load(activityKey(taxableEntityId, activityId));
    return toUploadActivity(snapshot);
  }

  @Query(() => [UploadActivity], {
    nullable: 'items',
    description:
      'Several activities of one entity, in the order asked. A failing item is null with its own error at ["uploadActivities", i].',
  })
  async uploadActivities(
    @Args(() => UploadActivitiesArgs) { taxableEntityId, activityIds }: UploadActivitiesArgs,
    @Ctx() context: RequestContext,
  ): Promise<(UploadActivity | Error)[]> {
    if (activityIds.length > this.options.maxActivityIds) {
      throw new BadUserInputError(`activityIds may list at most ${this.options.maxActivityIds} ids, got ${activityIds.length}`);
    }
    const results = await context.statusLoader().loadMany(activityIds.map((id) => activityKey(taxableEntityId, id)));
    // graphql-js turns an Error list item into null plus an error at that index.
    return results.map((result) => (result instanceof Error ? result : toUploadActivity(result)));
  }
}
