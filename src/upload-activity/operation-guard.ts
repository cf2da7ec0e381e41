import {
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  type GraphQLError,
  Kind,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { ErrorCode } from '../domain/index.js';
import { refusal } from '../errors.js';

type RateLimiter = {
  consume(key: string, points: number): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number }>;
};

export interface OperationGuardOptions {
  schema: GraphQLSchema;
  /** Longest `activityIds` list (MAX_ACTIVITY_IDS). */
  maxActivityIds: number;
  /** Activity ids in one operation over all fields and aliases (MAX_OPERATION_IDS). */
  maxOperationIds: number;
  /** Takes one point per activity id from the caller's allowance (RATE_LIMIT_PER_MINUTE). */
  rateLimit: RateLimiter;
  /** The same per client address, where callers are not verified (RATE_LIMIT_PER_ADDRESS_PER_MINUTE). @default none */
  addressRateLimit?: RateLimiter;
}

export interface GuardedOperation {
  document: DocumentNode;
  operationName?: string | null | undefined;
  variables?: Readonly<Record<string, unknown>> | null | undefined;
  /** The caller to charge, or undefined for one without credentials (it can read nothing anyway). */
  callerId: string | undefined;
  /** Also charged, against the address limit, where callers are not verified (a client address key). @default none */
  addressKey?: string | undefined;
}

/** How many activity ids the operation asks for, and the errors to refuse it with (none: go on). */
export interface GuardDecision {
  ids: number;
  errors?: GraphQLError[];
}

/** Admits or refuses one operation: counts the activity ids it asks for and charges them to its caller. */
export type OperationGuard = (operation: GuardedOperation) => Promise<GuardDecision>;

/**
 * The checks that need variables, run once they are coerced and before any read,
 * the same for HTTP and WebSocket: ids per `activityIds` list, ids per operation
 * over every root field and alias, and the caller's rate limit in activity reads.
 * Answers the ids counted and the errors to refuse the operation with (none: go on).
 * Variables are coerced once, here, with graphql-js's error limit, after a cheap
 * length check of raw lists: 10,000 invalid ids would otherwise build 10,000 errors.
 */
export function createOperationGuard(options: OperationGuardOptions): OperationGuard {
  const { schema, maxActivityIds, maxOperationIds, rateLimit, addressRateLimit } = options;

  function idsAsked(operation: GuardedOperation): number | GraphQLError[] {
    const definition = getOperationAST(operation.document, operation.operationName ?? undefined);
    if (!definition) return 0;
    const root =
      definition.operation === 'subscription'
        ? schema.getSubscriptionType()
        : definition.operation === 'mutation'
          ? schema.getMutationType()
          : schema.getQueryType();
    if (!root) return 0;
    const variables = operation.variables ?? {};
    for (const { variable } of definition.variableDefinitions ?? []) {
      const raw = variables[variable.name.value];
      if (Array.isArray(raw) && raw.length > maxActivityIds) {
        return [badInput(`activityIds may list at most ${maxActivityIds} ids, got ${raw.length}`)];
      }
    }
    const coerced = getVariableValues(
      schema,
      definition.variableDefinitions ?? [],
      { ...variables },
      { maxErrors: MAX_VARIABLE_ERRORS },
    );
    // Every coercion error is the client's, "Too many errors processing variables" included.
    if (coerced.errors) return coerced.errors.map((error) => badInput(error.message, error.nodes));
    const fragments = new Map(
      operation.document.definitions.flatMap((d) =>
        d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [],
      ),
    );
    const fields: FieldNode[] = [];
    const seen = new Set<string>();
    const collect = (selectionSet: SelectionSetNode) => {
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) fields.push(selection);
        else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet);
        else if (!seen.has(selection.name.value)) {
          seen.add(selection.name.value);
          const fragment = fragments.get(selection.name.value);
          if (fragment) collect(fragment.selectionSet);
        }
      }
    };
    collect(definition.selectionSet);
    let total = 0;
    for (const field of fields) {
      const fieldDef = root.getFields()[field.name.value];
      if (!fieldDef || !fieldDef.args.some((a) => ID_ARGUMENTS.has(a.name))) continue;
      let args: Record<string, unknown>;
      try {
        args = getArgumentValues(fieldDef, field, coerced.coerced);
      } catch {
        continue; // execution reports the bad argument
      }
      if (Array.isArray(args.activityIds)) {
        if (args.activityIds.length > maxActivityIds)
          return [badInput(`activityIds may list at most ${maxActivityIds} ids, got ${args.activityIds.length}`)];
        total += args.activityIds.length;
      }
      if (typeof args.activityId === 'string') total += 1;
      // Federation's `_entities`: each representation is one activity read, limited and charged like `activityIds`.
      if (Array.isArray(args.representations)) {
        if (args.representations.length > maxActivityIds)
          return [
            badInput(
              `_entities may resolve at most ${maxActivityIds} representations, got ${args.representations.length}`,
            ),
          ];
        total += args.representations.length;
      }
    }
    if (total > maxOperationIds)
      return [
        badInput(`An operation may ask for at most ${maxOperationIds} activity ids over all its fields, got ${total}`),
      ];
    return total;
  }

  /** The address first (a flood of invented callers ends there), then the caller. */
  async function chargeAll(operation: GuardedOperation, ids: number) {
    if (operation.addressKey !== undefined && addressRateLimit) {
      const byAddress = await addressRateLimit.consume(operation.addressKey, ids);
      if (!byAddress.ok) return byAddress;
    }
    return rateLimit.consume(operation.callerId!, ids);
  }

  return async function admit(operation: GuardedOperation): Promise<GuardDecision> {
    const ids = idsAsked(operation);
    if (Array.isArray(ids)) return { ids: 0, errors: ids };
    if (operation.callerId === undefined || ids === 0) return { ids };
    const decision = await chargeAll(operation, ids);
    if (decision.ok) return { ids };
    return {
      ids,
      errors: [
        refusal(ErrorCode.RATE_LIMITED, `Rate limit reached: try again in ${decision.retryAfterSeconds} s`, {
          status: 429,
          retryAfterSeconds: decision.retryAfterSeconds,
        }),
      ],
    };
  };
}

/** The arguments that name activities to read: each id (or representation) counts and is charged. */
const ID_ARGUMENTS = new Set(['activityId', 'activityIds', 'representations']);

/** Coercion errors reported at most, as graphql-js's own execute does (one more says the limit was reached). */
const MAX_VARIABLE_ERRORS = 50;

function badInput(message: string, nodes?: GraphQLError['nodes']): GraphQLError {
  return refusal(ErrorCode.BAD_USER_INPUT, message, { status: 400, nodes });
}
