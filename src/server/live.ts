import type { ExecutionResult, GraphQLError } from 'graphql';
import { ErrorCode } from '../domain/index.js';
import { refusal } from '../errors.js';
import type { OperationRecord } from './access-log.js';
import { OperationEnded } from './core.js';

export interface LiveResultsOptions {
  /** When the session's credentials expire (epoch ms): the stream ends then with `expired()`'s errors. @default never */
  expiresAt?: number | undefined;
  /** The errors a stream ends with at `expiresAt` (already masked). */
  expired: () => readonly GraphQLError[];
}

/**
 * A prepared subscription's results as an HTTP stream frames them: an error that
 * ends it (`OperationEnded`) becomes a last `{ data: null, errors }` result instead
 * of a throw, and at the credentials' expiry the stream ends the same way with
 * `expired()`. The source is returned (its subscribers freed) whenever this ends.
 */
export class LiveResults implements AsyncIterableIterator<ExecutionResult> {
  private expiry: ReturnType<typeof setTimeout> | undefined;
  private readonly expiring: Promise<'expired'> | undefined;
  private isDone = false;

  constructor(
    private readonly source: AsyncIterableIterator<ExecutionResult>,
    private readonly options: LiveResultsOptions,
  ) {
    const { expiresAt } = options;
    if (expiresAt !== undefined) {
      this.expiring = new Promise((resolve) => {
        this.expiry = setTimeout(() => resolve('expired'), Math.min(2 ** 31 - 1, Math.max(0, expiresAt - Date.now())));
      });
    }
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.isDone) return { done: true, value: undefined };
    try {
      const next = this.source.next();
      const item = this.expiring ? await Promise.race([next, this.expiring]) : await next;
      if (item === 'expired') return this.last(this.options.expired());
      if (item.done) await this.finish();
      return item;
    } catch (error) {
      if (error instanceof OperationEnded) return this.last(error.errors);
      await this.finish();
      throw error;
    }
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    await this.finish();
    return { done: true, value: undefined };
  }

  /** Present so libraries that end "async generators" only (graphql-sse, graphql-ws) end this one too. */
  async throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.finish();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private async last(errors: readonly GraphQLError[]): Promise<IteratorResult<ExecutionResult>> {
    await this.finish();
    return { done: false, value: { data: null, errors } };
  }

  private async finish(): Promise<void> {
    if (this.isDone) return;
    this.isDone = true;
    clearTimeout(this.expiry);
    await this.source.return?.();
  }
}

/**
 * A subscription's results as an HTTP stream sends them: `LiveResults` ending with
 * UNAUTHENTICATED at the credentials' expiry (noted in the access record), or the one
 * result of a subscription that did not start.
 */
export function streamedResults(
  result: AsyncIterableIterator<ExecutionResult> | ExecutionResult,
  options: {
    expiresAt: number | undefined;
    record: OperationRecord;
    mask: (errors: readonly GraphQLError[]) => GraphQLError[];
  },
): AsyncIterableIterator<ExecutionResult> | ExecutionResult {
  if (!(Symbol.asyncIterator in result)) return result;
  const { expiresAt, record, mask } = options;
  return new LiveResults(result, {
    expiresAt,
    expired: () => {
      const errors = [refusal(ErrorCode.UNAUTHENTICATED, 'Token expired: subscribe again with a fresh one')];
      record.failed(errors);
      return mask(errors);
    },
  });
}
