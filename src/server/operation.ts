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
import { GatewayError, maskError, refusal } from '../errors.js';
import { createFairQueue } from '../fair-queue.js';
import { nonNegativeInt, positiveInt } from '../options.js';

/** Everything an operation's admission may look at, after its document validated. */
export interface Admission<TContext> {
  document: DocumentNode;
  operationName: string | null | undefined;
  variables: Readonly<Record<string, unknown>> | null | undefined;
  contextValue: TContext;
  /** The caller key its transport found (the fairness key: a verified caller, or the client address). */
  callerKey: string | undefined;
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
  /** Lexical tokens a document may have; parsing stops past it (MAX_QUERY_TOKENS). */
  maxTokens: number;
  /** New documents one caller may have waiting to be parsed and validated; past it, RATE_LIMITED (MAX_PENDING_DOCUMENTS). */
  maxPendingDocuments: number;
  /** Fragment definitions a document may have, counted before any validation rule runs (MAX_FRAGMENTS). */
  maxFragments: number;
}

/** Ends a document's turn in the queue: call it once its parse and validation are done. */
export type EndTurn = () => void;

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
  /**
   * The parsed, validated document for `query`, or the errors to answer with. A
   * cached document answers at once; a new one waits for `callerKey`'s turn (see
   * `turn`) and is parsed and validated in it.
   */
  prepare(callerKey: string, query: string): Promise<{ document: DocumentNode } | { errors: GraphQLError[] }>;
  /**
   * For a transport that parses and validates itself (Apollo): undefined when
   * `query` is cached, else waits for `callerKey`'s turn to parse and validate a new
   * document and resolves to the function that ends it. New documents are handled
   * one at a time, round robin between callers, yielding to the event loop between
   * them, so one caller's flood delays another by at most one document's work; the
   * same document asked for again while it is handled waits for that one instead of
   * queueing. Rejects with RATE_LIMITED past MAX_PENDING_DOCUMENTS waiting for one
   * caller, and with BAD_USER_INPUT past MAX_FRAGMENTS, before any work.
   */
  turn(callerKey: string, query: string): Promise<EndTurn | undefined>;
  /** Errors as a client may see them (`maskError`), keeping their locations. */
  mask(errors: readonly GraphQLError[]): GraphQLError[];
  /** Documents in the cache right now, and their estimated bytes. */
  readonly cache: { documents: number; bytes: number };
}

export function createOperationPreparer(options: OperationPreparerOptions): OperationPreparer {
  const { schema } = options;
  positiveInt('maxPendingDocuments', options.maxPendingDocuments);
  nonNegativeInt('maxFragments', options.maxFragments);
  const validationRules = [...(options.validationRules ?? [])];
  const rules = [...specifiedRules, ...validationRules];
  // Thousands of screens send the same few documents: one shared immutable AST is
  // both faster and far smaller than one per operation.
  // Bounded by bytes, not by count: one document of 2,000 tokens holds ~600 KB of AST.
  const documents = new LRUCache<string, DocumentNode>({
    maxSize: DOCUMENT_CACHE_MAX_BYTES,
    sizeCalculation: documentBytes,
  });
  const parseOptions = { maxTokens: positiveInt('maxTokens', options.maxTokens) };
  // Keys as Apollo makes them for a provided documentStore (schema hash, then the
  // query's sha256), so a document validated on one transport serves the other.
  const prefix = `${sha256(printSchema(schema))}:`;

  const documentStore: DocumentStore = {
    get: async (key) => documents.get(key),
    set: async (key, document) => void documents.set(key, document),
    delete: async (key) => documents.delete(key),
  };

  // New documents: one at a time, fair between callers.
  const queue = createFairQueue({ concurrency: 1 });
  /** Documents being handled (or waiting) by key: the same document asked for again waits for that turn. */
  const inTurn = new Map<string, Promise<void>>();
  /** Documents that failed validation lately: asked again, they take a turn of their own instead of waiting for a cache entry that never comes. */
  const invalid = new LRUCache<string, true>({ max: 10_000 });

  /** `turn` with the document's cache key already made (the WebSocket path has it). */
  async function turnFor(key: string, callerKey: string, query: string): Promise<EndTurn | undefined> {
    if (documents.has(key)) return undefined;
    const fragments = countFragments(query);
    if (fragments > options.maxFragments) {
      throw refusal(
        ErrorCode.BAD_USER_INPUT,
        `A document may define at most ${options.maxFragments} fragments, got ${fragments}`,
        { status: 400 },
      );
    }
    const handling = inTurn.get(key);
    if (handling && !invalid.has(key)) {
      await handling;
      if (documents.has(key)) return undefined;
    }
    if (queue.waitingFor(callerKey) >= options.maxPendingDocuments) {
      throw refusal(
        ErrorCode.RATE_LIMITED,
        `Too many new documents waiting to be validated for this caller (at most ${options.maxPendingDocuments}): try again shortly`,
        {
          status: 429,
          retryAfterSeconds: 1,
        },
      );
    }
    let endTurn!: () => void;
    const ended = new Promise<void>((resolve) => (endTurn = resolve));
    if (!inTurn.has(key)) {
      inTurn.set(key, ended);
      void ended.then(() => {
        if (inTurn.get(key) === ended) inTurn.delete(key);
        if (!documents.has(key)) invalid.set(key, true);
      });
    }
    return new Promise<EndTurn | undefined>((resolve, reject) => {
      queue
        .run(callerKey, async () => {
          // Between two documents, whatever else is waiting (cached operations, I/O) runs.
          await new Promise((next) => setImmediate(next));
          if (documents.has(key)) {
            endTurn();
            resolve(undefined);
            return;
          }
          // A transport that never ends its turn cannot stall the queue.
          const stall = setTimeout(endTurn, TURN_TIMEOUT_MS);
          resolve(() => {
            clearTimeout(stall);
            endTurn();
          });
          await ended;
        })
        .catch(reject);
    });
  }

  function prepareNow(key: string, query: string): { document: DocumentNode } | { errors: GraphQLError[] } {
    const cached = documents.get(key);
    if (cached) return { document: cached };
    let document: DocumentNode;
    try {
      document = parse(query, parseOptions);
    } catch (error) {
      return { errors: [refusal('GRAPHQL_PARSE_FAILED', (error as Error).message)] };
    }
    const errors = validate(schema, document, rules);
    if (errors.length > 0) {
      return { errors: errors.map((e) => refusal('GRAPHQL_VALIDATION_FAILED', e.message, { nodes: e.nodes })) };
    }
    documents.set(key, document);
    return { document };
  }

  return {
    validationRules,
    parseOptions,
    documentStore,
    turn: (callerKey, query) => turnFor(prefix + sha256(query), callerKey, query),
    async prepare(callerKey, query) {
      const key = prefix + sha256(query);
      const cached = documents.get(key);
      if (cached) return { document: cached };
      let end: EndTurn | undefined;
      try {
        end = await turnFor(key, callerKey, query);
      } catch (error) {
        return { errors: [error as GraphQLError] };
      }
      try {
        return prepareNow(key, query);
      } finally {
        end?.();
      }
    },
    mask(errors) {
      return errors.map((error) => {
        const formatted = maskError(error.toJSON(), error);
        return new GraphQLError(formatted.message, {
          extensions: formatted.extensions,
          path: formatted.path,
          nodes: error.nodes,
        });
      });
    },
    get cache() {
      return { documents: documents.size, bytes: documents.calculatedSize };
    },
  };
}

/** A pre-execution error without a code of its own is the client's: `BAD_USER_INPUT`. */
export function asRequestError(error: GraphQLError): GraphQLError {
  if (error.path !== undefined || error.originalError instanceof GatewayError || error.extensions.code !== undefined)
    return error;
  return refusal(ErrorCode.BAD_USER_INPUT, error.message, { nodes: error.nodes });
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

/** Longest a turn may last before the queue moves on without it (parse and validation take milliseconds). */
const TURN_TIMEOUT_MS = 2000;

/** Estimated memory the validated-document cache may hold, however many documents that is. */
const DOCUMENT_CACHE_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Fragment definitions in a document's text, counted without parsing: the keyword
 * `fragment` followed by a name (commas are insignificant in GraphQL). A mention
 * inside a string or comment counts too, which can only refuse a document early,
 * never let an over-long one through.
 */
function countFragments(query: string): number {
  return query.match(/\bfragment[\s,]+[_A-Za-z]/g)?.length ?? 0;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
