import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { UploadActivityResolver } from './upload-activity/upload-activity.resolver.js';

export interface SchemaDependencies {
  /** type-graphql requires one even though every subscription brings its own `subscribe`. */
  pubSub: PubSub;
}

/**
 * Builds the executable schema. Resolvers hold no state (everything per operation
 * comes through the context), so one instance serves every gateway in the process.
 */
export async function buildAppSchema(deps: SchemaDependencies): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [UploadActivityResolver],
    pubSub: deps.pubSub,
    validate: false,
  });
}
