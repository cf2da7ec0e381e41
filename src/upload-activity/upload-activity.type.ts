import 'reflect-metadata';
import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';
import { DateTimeISOResolver, UUIDResolver } from 'graphql-scalars';
import { globalActivityId, isTerminalStatus, type StatusSnapshot } from '../domain/index.js';
import { UploadStatus, toUploadStatus } from './upload-status.js';

// The Federation entity key (only printed in the subgraph SDL; the public schema has no directives).
@Directive('@key(fields: "id")')
@ObjectType('UploadActivity', {
  description: 'One E-Way Bill upload activity and its processing status.',
  // Plain fields, no middleware: skip type-graphql's per-field resolver wrapping (measured with bench:http).
  simpleResolvers: true,
})
export class UploadActivity {
  @Field(() => ID, {
    description:
      'Globally unique and stable: "UploadActivity:<taxableEntityId>:<activityId>", for client cache normalisation.',
  })
  id!: string;

  @Field(() => UUIDResolver)
  activityId!: string;

  @Field(() => UUIDResolver)
  taxableEntityId!: string;

  @Field(() => UploadStatus, { description: 'UNKNOWN when upstream sends a value not listed.' })
  status!: UploadStatus;

  @Field(() => String, { description: 'The upstream status string, verbatim.' })
  rawStatus!: string;

  @Field(() => String, { nullable: true })
  errorMessage!: string | null;

  @Field(() => Int, { nullable: true, description: 'Position in the processing queue, when upstream reports one.' })
  queuedCount!: number | null;

  @Field(() => Boolean, { description: 'PROCESSED or ABORTED: the status will not change again.' })
  isTerminal!: boolean;

  @Field(() => DateTimeISOResolver, { description: 'When the gateway read this from upstream.' })
  fetchedAt!: Date;

  @Field(() => Boolean, {
    description:
      'True only in a subscription event sent because polling this activity has failed for STALE_AFTER_MS; the state is the last known one.',
  })
  isStale!: boolean;
}

/** The API type of a snapshot. Its ids are already normalised (see `activityKey`). */
export function toUploadActivity(snapshot: StatusSnapshot, isStale = false): UploadActivity {
  return Object.assign(new UploadActivity(), {
    id: globalActivityId(snapshot),
    activityId: snapshot.activityId,
    taxableEntityId: snapshot.taxableEntityId,
    status: toUploadStatus(snapshot.rawStatus),
    rawStatus: snapshot.rawStatus,
    errorMessage: snapshot.errorMessage,
    queuedCount: snapshot.queuedCount,
    isTerminal: isTerminalStatus(snapshot.rawStatus),
    fetchedAt: new Date(snapshot.fetchedAt),
    isStale,
  });
}
