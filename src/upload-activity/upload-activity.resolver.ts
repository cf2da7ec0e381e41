import 'reflect-metadata';
import { Args, Ctx, Query, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { activityKey, type StatusEvent } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import type { UploadActivityContext } from './upload-activity.context.js';
import { UploadActivitiesArgs, UploadActivityArgs } from './upload-activity.args.js';
import { UploadActivity, toUploadActivity } from './upload-activity.type.js';

/** The error `checkEntity` raises for this entity, or undefined when the caller may read it. */
function entityRefusal(context: UploadActivityContext, taxableEntityId: string): Error | undefined {
  try {
    context.checkEntity(taxableEntityId);
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

/** A watcher event as the subscription field's value, or its error. */
function toSubscriptionValue(event: StatusEvent): UploadActivity {
  if (event.type === 'error') throw new GatewayError(event.code, event.message, event.upstream);
  return toUploadActivity(event.snapshot, event.isStale ?? false);
}

type SubscribeData<TArgs> = SubscribeResolverData<unknown, TArgs, UploadActivityContext>;

/**
 * Thin by design: normalise ids into keys (the one place they enter), check arguments, ask the operation's loader
 * (queries) or the StatusWatcher (subscriptions). Errors are thrown (or returned
 * per list item) as they are; `maskError` gives them their contract code on the
 * way out.
 */
@Resolver(() => UploadActivity)
export class UploadActivityResolver {
  @Query(() => UploadActivity, {
    nullable: true,
    description: 'The current status of one upload activity, read from ClearTax (terminal states may come from cache).',
  })
  async uploadActivity(
    @Args(() => UploadActivityArgs) { taxableEntityId, activityId }: UploadActivityArgs,
    @Ctx() context: UploadActivityContext,
  ): Promise<UploadActivity> {
    context.checkEntity(taxableEntityId);
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
    @Ctx() context: UploadActivityContext,
  ): Promise<(UploadActivity | Error)[]> {
    // List lengths were checked with the coerced variables before execution (operation-guard.ts).
    // A refused entity fails each item on its own, as any failing item does: the field is
    // `[UploadActivity]!`, so a field-level error would null the whole response, and with
    // it every allowed activity of the same operation that was already read.
    const refusal = entityRefusal(context, taxableEntityId);
    if (refusal && activityIds.length > 0) return activityIds.map(() => refusal);
    if (refusal) throw refusal;
    const results = await context.statusLoader().loadMany(activityIds.map((id) => activityKey(taxableEntityId, id)));
    // graphql-js turns an Error list item into null plus an error at that index.
    return results.map((result) => (result instanceof Error ? result : toUploadActivity(result)));
  }

  @Subscription(() => UploadActivity, {
    description:
      'The current state, then one event per change of status, errorMessage or queuedCount; completes after a terminal status. ' +
      'NOT_FOUND, UNAUTHENTICATED and FORBIDDEN arrive as an error, then the subscription completes.',
    subscribe: ({ args, context }: SubscribeData<UploadActivityArgs>) => {
      context.checkEntity(args.taxableEntityId);
      return context.watchStatus([activityKey(args.taxableEntityId, args.activityId)]);
    },
  })
  uploadActivityStatusChanged(
    @Root() event: StatusEvent,
    @Args(() => UploadActivityArgs) _args: UploadActivityArgs,
  ): UploadActivity {
    return toSubscriptionValue(event);
  }

  @Subscription(() => UploadActivity, {
    description:
      'As uploadActivityStatusChanged, for several activities of one entity; completes when every listed activity is terminal ' +
      '(or has failed with an error).',
    subscribe: ({ args, context }: SubscribeData<UploadActivitiesArgs>) => {
      context.checkEntity(args.taxableEntityId);
      return context.watchStatus(args.activityIds.map((id: string) => activityKey(args.taxableEntityId, id)));
    },
  })
  uploadActivitiesStatusChanged(
    @Root() event: StatusEvent,
    @Args(() => UploadActivitiesArgs) _args: UploadActivitiesArgs,
  ): UploadActivity {
    return toSubscriptionValue(event);
  }
}
