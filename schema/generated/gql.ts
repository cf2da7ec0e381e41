/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "fragment UploadActivityFields on UploadActivity {\n  id\n  activityId\n  taxableEntityId\n  status\n  rawStatus\n  errorMessage\n  queuedCount\n  isTerminal\n  fetchedAt\n  isStale\n}\n\nquery UploadActivity($taxableEntityId: UUID!, $activityId: UUID!) {\n  uploadActivity(taxableEntityId: $taxableEntityId, activityId: $activityId) {\n    ...UploadActivityFields\n  }\n}\n\nquery UploadActivities($taxableEntityId: UUID!, $activityIds: [UUID!]!) {\n  uploadActivities(taxableEntityId: $taxableEntityId, activityIds: $activityIds) {\n    ...UploadActivityFields\n  }\n}\n\nsubscription UploadActivityStatusChanged($taxableEntityId: UUID!, $activityId: UUID!) {\n  uploadActivityStatusChanged(\n    taxableEntityId: $taxableEntityId\n    activityId: $activityId\n  ) {\n    ...UploadActivityFields\n  }\n}\n\nsubscription UploadActivitiesStatusChanged($taxableEntityId: UUID!, $activityIds: [UUID!]!) {\n  uploadActivitiesStatusChanged(\n    taxableEntityId: $taxableEntityId\n    activityIds: $activityIds\n  ) {\n    ...UploadActivityFields\n  }\n}": typeof types.UploadActivityFieldsFragmentDoc,
};
const documents: Documents = {
    "fragment UploadActivityFields on UploadActivity {\n  id\n  activityId\n  taxableEntityId\n  status\n  rawStatus\n  errorMessage\n  queuedCount\n  isTerminal\n  fetchedAt\n  isStale\n}\n\nquery UploadActivity($taxableEntityId: UUID!, $activityId: UUID!) {\n  uploadActivity(taxableEntityId: $taxableEntityId, activityId: $activityId) {\n    ...UploadActivityFields\n  }\n}\n\nquery UploadActivities($taxableEntityId: UUID!, $activityIds: [UUID!]!) {\n  uploadActivities(taxableEntityId: $taxableEntityId, activityIds: $activityIds) {\n    ...UploadActivityFields\n  }\n}\n\nsubscription UploadActivityStatusChanged($taxableEntityId: UUID!, $activityId: UUID!) {\n  uploadActivityStatusChanged(\n    taxableEntityId: $taxableEntityId\n    activityId: $activityId\n  ) {\n    ...UploadActivityFields\n  }\n}\n\nsubscription UploadActivitiesStatusChanged($taxableEntityId: UUID!, $activityIds: [UUID!]!) {\n  uploadActivitiesStatusChanged(\n    taxableEntityId: $taxableEntityId\n    activityIds: $activityIds\n  ) {\n    ...UploadActivityFields\n  }\n}": types.UploadActivityFieldsFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment UploadActivityFields on UploadActivity {\n  id\n  activityId\n  taxableEntityId\n  status\n  rawStatus\n  errorMessage\n  queuedCount\n  isTerminal\n  fetchedAt\n  isStale\n}\n\nquery UploadActivity($taxableEntityId: UUID!, $activityId: UUID!) {\n  uploadActivity(taxableEntityId: $taxableEntityId, activityId: $activityId) {\n    ...UploadActivityFields\n  }\n}\n\nquery UploadActivities($taxableEntityId: UUID!, $activityIds: [UUID!]!) {\n  uploadActivities(taxableEntityId: $taxableEntityId, activityIds: $activityIds) {\n    ...UploadActivityFields\n  }\n}\n\nsubscription UploadActivityStatusChanged($taxableEntityId: UUID!, $activityId: UUID!) {\n  uploadActivityStatusChanged(\n    taxableEntityId: $taxableEntityId\n    activityId: $activityId\n  ) {\n    ...UploadActivityFields\n  }\n}\n\nsubscription UploadActivitiesStatusChanged($taxableEntityId: UUID!, $activityIds: [UUID!]!) {\n  uploadActivitiesStatusChanged(\n    taxableEntityId: $taxableEntityId\n    activityIds: $activityIds\n  ) {\n    ...UploadActivityFields\n  }\n}"): (typeof documents)["fragment UploadActivityFields on UploadActivity {\n  id\n  activityId\n  taxableEntityId\n  status\n  rawStatus\n  errorMessage\n  queuedCount\n  isTerminal\n  fetchedAt\n  isStale\n}\n\nquery UploadActivity($taxableEntityId: UUID!, $activityId: UUID!) {\n  uploadActivity(taxableEntityId: $taxableEntityId, activityId: $activityId) {\n    ...UploadActivityFields\n  }\n}\n\nquery UploadActivities($taxableEntityId: UUID!, $activityIds: [UUID!]!) {\n  uploadActivities(taxableEntityId: $taxableEntityId, activityIds: $activityIds) {\n    ...UploadActivityFields\n  }\n}\n\nsubscription UploadActivityStatusChanged($taxableEntityId: UUID!, $activityId: UUID!) {\n  uploadActivityStatusChanged(\n    taxableEntityId: $taxableEntityId\n    activityId: $activityId\n  ) {\n    ...UploadActivityFields\n  }\n}\n\nsubscription UploadActivitiesStatusChanged($taxableEntityId: UUID!, $activityIds: [UUID!]!) {\n  uploadActivitiesStatusChanged(\n    taxableEntityId: $taxableEntityId\n    activityIds: $activityIds\n  ) {\n    ...UploadActivityFields\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;