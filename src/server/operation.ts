import { createHash } from 'node:crypto';
import {
  GraphQLError,
  parse,
  printSchema,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import type { DocumentStore } from '@apollo/server';
import { LRUCache } from 'lru-cache';
import { ErrorCode } from '../domain/index.js';
import { GatewayError, maskError } from '../errors.js';

/** Everything an operation's admission may look at, after its document validated. */
export interface Admission<TContext> {
  document: DocumentNode;
  operationName: string | null | undefined;
  variables: Readonly<Record<string, unknown>> | null | undefined;
  contextValue: TContext;
}

/** What admission decided: the activity ids asked for, whom they are charged to, and the errors that refuse the operation (none: go on). */
export interface AdmissionResult {
  ids: number;
  callerId?: string | undefined;
  errors?: readonly GraphQLError[] | undefined;
}

/** The checks that need the operation's variables (limits, rate), the same on every transport. */
export type Admit<TContext> = (operation: Admission<TContext>) => Promise<AdmissionResult>;

export interface OperationPreparerOptions {
  schema: GraphQLSchema;
  /** Rules beyond graphql's `specifiedRules`, applied on HTTP (Apollo) and WebSocket alike. @default [] */
  validationRules?: readonly ValidationRule[];
  /** Lexical tokens a document may have; parsing stops past it (MAX_QUERY_TOKENS). @default 2000 */
  maxTokens?: number;
  /** Estimated memory the validated-document cache may hold, however many documents that is. @default 16 MiB */
  documentCacheMaxBytes?: number;
}

/**
 * The step every operation passes before execution, the same for HTTP and
 * WebSocket: one document cache, one list of validation rules, one error masking.
 * Apollo gets the cache as its `documentStore` and the rules as its
 * `validationRules`; the WebSocket adapter calls `prepare` and `mask`.
 */
export interface OperationPreparer {
  /** Extra validation rules, for Apollo's `validationRules`. */
  readonly validationRules: ValidationRule[];
  /** Parser options (the token limit), for Apollo's `parseOptions`. */
  readonly parseOptions: { maxTokens: number };
  /** The shared cache of validated documents, for Apollo's `documentStore`. */
  readonly documentStore: DocumentStore;
  /** The parsed, validated document for `query` (cached), or the errors to answer with. */
  prepare(query: string): { document: DocumentNode } | { errors: GraphQLError[] };
  /** Errors as a client may see them (`maskError`), keeping their locations. */
  mask(errors: readonly GraphQLError[]): GraphQLError[];
  /** Documents in the cache right now, and their estimated bytes. */
  readonly cache: { documents: number; bytes: number };
}

export function createOperationPreparer(options: OperationPreparerOptions): OperationPreparer {
  const { schema } = options;
  const validationRules = [...(options.validationRules ?? [])];
  const rules = [...specifiedRules, ...validationRules];
  // Thousands of screens send the same few documents: one shared immutable AST is
  // both faster and far smaller than one per operation.
  // Bounded by bytes, not by count: one document of 2,000 tokens holds ~600 KB of AST.
  const documents = new LRUCache<string, DocumentNode>({ maxSize: options.documentCacheMaxBytes ?? 16 * 1024 * 1024, sizeCalculation: documentBytes });
  const parseOptions = { maxTokens: options.maxTokens ?? 2000 };
  // Keys as Apollo makes them for a provided documentStore (schema hash, then the
  // query's sha256), so a document validated on one transport serves the other.
  const prefix = `${sha256(printSchema(schema))}:`;

  const documentStore: DocumentStore = {
    get: async (key) => documents.get(key),
    set: async (key, document) => void documents.set(key, document),
    delete: async (key) => documents.delete(key),
  };

  return {
    validationRules,
    parseOptions,
    documentStore,
    prepare(query) {
      const key = prefix + sha256(query);
      const cached = documents.get(key);
      if (cached) return { document: cached };
      let document: DocumentNode;
      try {
        document = parse(query, parseOptions);
      } catch (error) {
        return { errors: [new GraphQLError((error as Error).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })] };
      }
      const errors = validate(schema, document, rules);
      if (errors.length > 0) {
        return { errors: errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })) };
      }
      documents.set(key, document);
      return { document };
    },
    mask(errors) {
      return errors.map((error) => {
        const formatted = maskError(error.toJSON(), error);
        return new GraphQLError(formatted.message, { extensions: formatted.extensions, path: formatted.path, nodes: error.nodes });
      });
    },
    get cache() {
      return { documents: documents.size, bytes: documents.calculatedSize };
    },
  };
}

/** A pre-execution error without a code of its own is the client's: `BAD_USER_INPUT`. */
export function asRequestError(error: GraphQLError): GraphQLError {
  if (error.path !== undefined || error.originalError instanceof GatewayError || error.extensions.code !== undefined) return error;
  return new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: ErrorCode.BAD_USER_INPUT } });
}

/**
 * Rough heap cost of a parsed document: measured at ~260-320 bytes per lexical
 * token (AST nodes plus the token list its locations keep) and one byte per
 * source character (long strings).
 */
function documentBytes(document: DocumentNode): number {
  let tokens = 0;
  for (let token = document.loc?.startToken ?? null; token; token = token.next) tokens += 1;
  return 320 * tokens + (document.loc?.source.body.length ?? 0) + 1;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
