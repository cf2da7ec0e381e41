import 'reflect-metadata';
import { ArgsType, Field } from 'type-graphql';
import { UUIDResolver } from 'graphql-scalars';

@ArgsType()
export class UploadActivityArgs {
  @Field(() => UUIDResolver, { description: 'The taxable entity (GSTIN holder) the upload belongs to.' })
  taxableEntityId!: string;

  @Field(() => UUIDResolver, { description: 'The upload activity id ClearTax returned when the file was uploaded.' })
  activityId!: string;
}

@ArgsType()
export class UploadActivitiesArgs {
  @Field(() => UUIDResolver)
  taxableEntityId!: string;

  @Field(() => [UUIDResolver], { description: 'At most MAX_ACTIVITY_IDS ids; duplicates allowed, answered in order.' })
  activityIds!: string[];
}
