import 'reflect-metadata';
import { printSchema } from 'graphql';
import { createPubSub } from '@graphql-yoga/subscription';
import { buildAppSchema } from './schema.js';

/**
 * The SDL of the schema as the code defines it, in declaration order (type-graphql
 * builds deterministically). Its shape does not depend on the values of its
 * dependencies, so placeholders are fine here.
 */
export async function printAppSchema(): Promise<string> {
  const schema = await buildAppSchema({ maxActivityIds: 1, pubSub: createPubSub() });
  return printSchema(schema) + '\n';
}
