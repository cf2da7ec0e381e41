import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { UploadActivityResolver } from './upload-activity/upload-activity.resolver.js';

export interface SchemaDependencies {
  /** type-graphql requires one even though every subscription brings its own `subscribe`. */
  pubSub: PubSub;
  /** Serve it as an Apollo Federation 2 subgraph (FEDERATION_SUBGRAPH). @default false */
  federation?: boolean;
}

/**
 * Builds the executable schema. Resolvers hold no state (everything per operation
 * comes through the context), so one instance serves every gateway in the process.
 */
export async function buildAppSchema(deps: SchemaDependencies): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [UploadActivityResolver],
    pubSub: deps.pubSub,
    validate: false,
  });
  if (!deps.federation) return schema;
  // Loaded only when configured: a standalone gateway never imports @apollo/subgraph.
  const { toSubgraphSchema } = await import('./schema-federation.js');
  return toSubgraphSchema(schema);
}
