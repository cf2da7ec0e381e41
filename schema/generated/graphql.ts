/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** Where an upload is in ClearTax processing. PROCESSED and ABORTED are terminal. */
export type UploadStatus =
  /** Failed; see errorMessage (terminal). */
  | 'ABORTED'
  /** Upload registered, file not yet received. */
  | 'INIT'
  /** Finished successfully (terminal). */
  | 'PROCESSED'
  /** Being processed. */
  | 'PROCESSING'
  /** Waiting to be processed; see queuedCount. */
  | 'QUEUED'
  /** Upstream sent a status this gateway does not know; see rawStatus. */
  | 'UNKNOWN'
  /** File received. */
  | 'UPLOADED';

export type UploadActivityFieldsFragment = { id: string, activityId: string, taxableEntityId: string, status: UploadStatus, rawStatus: string, errorMessage: string | null, queuedCount: number | null, isTerminal: boolean, fetchedAt: string };

export type UploadActivityQueryVariables = Exact<{
  taxableEntityId: string;
  activityId: string;
}>;


export type UploadActivityQuery = { uploadActivity: { id: string, activityId: string, taxableEntityId: string, status: UploadStatus, rawStatus: string, errorMessage: string | null, queuedCount: number | null, isTerminal: boolean, fetchedAt: string } | null };

export type UploadActivitiesQueryVariables = Exact<{
  taxableEntityId: string;
  activityIds: Array<string> | string;
}>;


export type UploadActivitiesQuery = { uploadActivities: Array<{ id: string, activityId: string, taxableEntityId: string, status: UploadStatus, rawStatus: string, errorMessage: string | null, queuedCount: number | null, isTerminal: boolean, fetchedAt: string } | null> };

export type UploadActivityStatusChangedSubscriptionVariables = Exact<{
  taxableEntityId: string;
  activityId: string;
}>;


export type UploadActivityStatusChangedSubscription = { uploadActivityStatusChanged: { id: string, activityId: string, taxableEntityId: string, status: UploadStatus, rawStatus: string, errorMessage: string | null, queuedCount: number | null, isTerminal: boolean, fetchedAt: string } };

export type UploadActivitiesStatusChangedSubscriptionVariables = Exact<{
  taxableEntityId: string;
  activityIds: Array<string> | string;
}>;


export type UploadActivitiesStatusChangedSubscription = { uploadActivitiesStatusChanged: { id: string, activityId: string, taxableEntityId: string, status: UploadStatus, rawStatus: string, errorMessage: string | null, queuedCount: number | null, isTerminal: boolean, fetchedAt: string } };

export const UploadActivityFieldsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UploadActivityFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UploadActivity"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"activityId"}},{"kind":"Field","name":{"kind":"Name","value":"taxableEntityId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"rawStatus"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}},{"kind":"Field","name":{"kind":"Name","value":"queuedCount"}},{"kind":"Field","name":{"kind":"Name","value":"isTerminal"}},{"kind":"Field","name":{"kind":"Name","value":"fetchedAt"}}]}}]} as unknown as DocumentNode<UploadActivityFieldsFragment, unknown>;
export const UploadActivityDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"UploadActivity"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"taxableEntityId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UUID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"activityId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UUID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"uploadActivity"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"taxableEntityId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"taxableEntityId"}}},{"kind":"Argument","name":{"kind":"Name","value":"activityId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"activityId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"UploadActivityFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UploadActivityFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UploadActivity"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"activityId"}},{"kind":"Field","name":{"kind":"Name","value":"taxableEntityId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"rawStatus"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}},{"kind":"Field","name":{"kind":"Name","value":"queuedCount"}},{"kind":"Field","name":{"kind":"Name","value":"isTerminal"}},{"kind":"Field","name":{"kind":"Name","value":"fetchedAt"}}]}}]} as unknown as DocumentNode<UploadActivityQuery, UploadActivityQueryVariables>;
export const UploadActivitiesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"UploadActivities"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"taxableEntityId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UUID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"activityIds"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UUID"}}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"uploadActivities"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"taxableEntityId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"taxableEntityId"}}},{"kind":"Argument","name":{"kind":"Name","value":"activityIds"},"value":{"kind":"Variable","name":{"kind":"Name","value":"activityIds"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"UploadActivityFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UploadActivityFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UploadActivity"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"activityId"}},{"kind":"Field","name":{"kind":"Name","value":"taxableEntityId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"rawStatus"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}},{"kind":"Field","name":{"kind":"Name","value":"queuedCount"}},{"kind":"Field","name":{"kind":"Name","value":"isTerminal"}},{"kind":"Field","name":{"kind":"Name","value":"fetchedAt"}}]}}]} as unknown as DocumentNode<UploadActivitiesQuery, UploadActivitiesQueryVariables>;
export const UploadActivityStatusChangedDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"UploadActivityStatusChanged"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"taxableEntityId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UUID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"activityId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UUID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"uploadActivityStatusChanged"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"taxableEntityId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"taxableEntityId"}}},{"kind":"Argument","name":{"kind":"Name","value":"activityId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"activityId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"UploadActivityFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UploadActivityFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UploadActivity"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"activityId"}},{"kind":"Field","name":{"kind":"Name","value":"taxableEntityId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"rawStatus"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}},{"kind":"Field","name":{"kind":"Name","value":"queuedCount"}},{"kind":"Field","name":{"kind":"Name","value":"isTerminal"}},{"kind":"Field","name":{"kind":"Name","value":"fetchedAt"}}]}}]} as unknown as DocumentNode<UploadActivityStatusChangedSubscription, UploadActivityStatusChangedSubscriptionVariables>;
export const UploadActivitiesStatusChangedDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"UploadActivitiesStatusChanged"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"taxableEntityId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UUID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"activityIds"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UUID"}}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"uploadActivitiesStatusChanged"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"taxableEntityId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"taxableEntityId"}}},{"kind":"Argument","name":{"kind":"Name","value":"activityIds"},"value":{"kind":"Variable","name":{"kind":"Name","value":"activityIds"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"UploadActivityFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UploadActivityFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UploadActivity"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"activityId"}},{"kind":"Field","name":{"kind":"Name","value":"taxableEntityId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"rawStatus"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}},{"kind":"Field","name":{"kind":"Name","value":"queuedCount"}},{"kind":"Field","name":{"kind":"Name","value":"isTerminal"}},{"kind":"Field","name":{"kind":"Name","value":"fetchedAt"}}]}}]} as unknown as DocumentNode<UploadActivitiesStatusChangedSubscription, UploadActivitiesStatusChangedSubscriptionVariables>;