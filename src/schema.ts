import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { UploadActivityResolver, type UploadActivityResolverOptions } from './upload-activity/upload-activity.resolver.js';

export interface SchemaDependencies extends UploadActivityResolverOptions {
  pubSub: PubSub;
}

/**
 * Builds the executable schema. Resolver instances are created here with their
 * dependencies (type-graphql's `container`), so two gateways in one process each
 * get their own.
 */
export async function buildAppSchema(deps: SchemaDependencies): Promise<GraphQLSchema> {
  const instances = new Map<Function, object>([[UploadActivityResolver, new UploadActivityResolver(deps)]]);
  return buildSchema({
    resolvers: [UploadActivityResolver],
    container: {
      get(someClass) {
        const instance = instances.get(someClass as Function);
        if (!instance) throw new Error(`no instance registered for resolver ${String((someClass as Function).name)}`);
        return instance;
      },
    },
    pubSub: deps.pubSub,
    validate: false,
  });
}
