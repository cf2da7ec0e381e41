import { GraphQLError, type ValidationRule } from 'graphql';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';

export interface OperationLimitOptions {
  /** Fields on the longest path, leaf included, fragments inlined, introspection counted (MAX_QUERY_DEPTH). */
  maxDepth: number;
  /** Aliases per operation (MAX_ALIASES). */
  maxAliases: number;
}

/**
 * The document-only limits as validation rules (graphql-armor's), shared by HTTP
 * and WebSocket through the prepare step. graphql-armor's standalone rules throw
 * out of `validate()` by default (a 500 on HTTP); here they report a validation
 * error instead (GRAPHQL_VALIDATION_FAILED, 400 on HTTP, on both transports). Depth flattens fragments, so graphql
 * 16's introspection query measures 15, as the contract counts.
 */
export function operationLimitRules(options: OperationLimitOptions): ValidationRule[] {
  const report = (context: Parameters<ValidationRule>[0] | null, error: GraphQLError) =>
    context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, '')));
  return [
    maxDepthRule({
      n: options.maxDepth,
      flattenFragments: true,
      ignoreIntrospection: false,
      propagateOnRejection: false,
      onReject: [report],
    }) as unknown as ValidationRule,
    // Every alias counts, __typename's too (graphql-armor exempts it by default).
    maxAliasesRule({
      n: options.maxAliases,
      allowList: [],
      propagateOnRejection: false,
      onReject: [report],
    }) as unknown as ValidationRule,
  ];
}
