import { execute, parse, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { createResolversMap } from 'type-graphql';
import { resolveUploadActivityReference } from './upload-activity/upload-activity.reference.js';
import type { UploadActivityContext } from './upload-activity/upload-activity.context.js';

/**
 * Federation 2.7 (subscriptions through a router need 2.4 or later), importing only
 * the directive the schema uses.
 */
const FEDERATION_LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';

/**
 * The schema as an Apollo Federation 2 subgraph (FEDERATION_SUBGRAPH=true), the way
 * type-graphql's own federation example builds one: print the code-first schema with
 * its directives (`@key` on UploadActivity), add the federation `@link`, and hand it
 * with the resolvers to `buildSubgraphSchema`, which adds `_service` and `_entities`.
 * Loaded only when configured: `@apollo/subgraph` stays out of a standalone gateway.
 */
export function toSubgraphSchema(schema: GraphQLSchema): GraphQLSchema {
  const resolvers = createResolversMap(schema) as Record<string, Record<string, unknown>>;
  return buildSubgraphSchema({
    typeDefs: parse(`${FEDERATION_LINK}\n\n${printSchemaWithDirectives(schema)}`),
    resolvers: {
      ...resolvers,
      UploadActivity: {
        ...resolvers.UploadActivity,
        __resolveReference: (reference: { id?: unknown }, context: UploadActivityContext) =>
          resolveUploadActivityReference(reference, context),
      },
    } as never,
  });
}

/** The subgraph SDL, as `_service { sdl }` answers it and `rover subgraph publish` takes it. */
export async function printSubgraphSdl(subgraph: GraphQLSchema): Promise<string> {
  // Asked of the schema itself, so the emitted file is exactly what a router fetches.
  const result = (await execute({ schema: subgraph, document: parse('{ _service { sdl } }') })) as ExecutionResult<{
    _service: { sdl: string };
  }>;
  if (!result.data) throw new Error(`_service { sdl } failed: ${result.errors?.[0]?.message}`);
  return result.data._service.sdl;
}
