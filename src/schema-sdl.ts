import 'reflect-metadata';
import { printSchema } from 'graphql';
import { createAppPubSub } from './pubsub.js';
import { buildAppSchema } from './schema.js';

/**
 * The SDL of the schema as the code defines it, in declaration order (type-graphql
 * builds deterministically). Its shape does not depend on the values of its
 * dependencies, so placeholders are fine here.
 */
export async function printAppSchema(): Promise<string> {
  const schema = await buildAppSchema({ pubSub: createAppPubSub() });
  return printSchema(schema) + '\n';
}

/** The subgraph SDL (FEDERATION_SUBGRAPH=true): what `_service { sdl }` answers, for `rover subgraph publish`. */
export async function printAppSubgraphSchema(): Promise<string> {
  const schema = await buildAppSchema({ pubSub: createAppPubSub(), federation: true });
  const { printSubgraphSdl } = await import('./schema-federation.js');
  return (await printSubgraphSdl(schema)) + '\n';
}
