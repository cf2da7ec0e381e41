import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';

/** What a subscriber's results pass through on their way out (the operation core's masking and recording). */
export interface Delivery {
  /** A result as the subscriber may see it. */
  delivered(result: ExecutionResult): ExecutionResult;
  /** An error the source threw, as the error that ends the subscription. */
  ended(error: unknown): Error;
}

type Subscribe = (
  args: ExecutionArgs,
  delivery?: Delivery,
) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;

/**
 * graphql-js `subscribe`, except that subscribers who receive the same event
 * object with the same document, operation and variables share one execution of
 * it. The StatusWatcher hands one event object to every subscriber of a watched
 * key, so 100 screens on one activity cost one execution per change instead of
 * 100 (see bench/fanout.ts).
 *
 * Sound because an event object only ever reaches subscribers of one (token hash,
 * entity, activity), and subscription field resolvers read nothing but the event
 * and their arguments (not the per-connection context).
 */
export function createSharedSubscribe(): Subscribe {
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;
  // Keyed by the event object, so results are dropped once every subscriber has the event.
  const executions = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

  return async function subscribe(args, delivery) {
    const stream = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in Object(stream))) return stream as ExecutionResult;
    const source = (stream as AsyncIterable<unknown>)[Symbol.asyncIterator]();

    let documentId = documentIds.get(args.document);
    if (documentId === undefined) documentIds.set(args.document, (documentId = nextDocumentId++));
    const shareKey = `${documentId}|${args.operationName ?? ''}|${JSON.stringify(args.variableValues ?? {})}`;

    return new SharedExecutionIterator(source, args, shareKey, executions, delivery);
  };
}

/**
 * One subscriber's stream of results. A class rather than closures: there is one per
 * subscriber, and prototype methods keep each one small (measured per subscriber).
 */
class SharedExecutionIterator implements AsyncIterableIterator<ExecutionResult> {
  constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly args: ExecutionArgs,
    private readonly shareKey: string,
    private readonly executions: WeakMap<object, Map<string, Promise<ExecutionResult>>>,
    /** Applied here rather than by a wrapping iterator: one pending `next` per subscriber, not two. */
    private readonly delivery: Delivery | undefined,
  ) {}

  private run(event: unknown): Promise<ExecutionResult> {
    return Promise.resolve(execute({ ...this.args, rootValue: event }) as ExecutionResult | Promise<ExecutionResult>);
  }

  private resultFor(event: unknown): Promise<ExecutionResult> {
    if (typeof event !== 'object' || event === null) return this.run(event);
    let byQuery = this.executions.get(event);
    if (!byQuery) this.executions.set(event, (byQuery = new Map()));
    let result = byQuery.get(this.shareKey);
    if (!result) byQuery.set(this.shareKey, (result = this.run(event)));
    return result;
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    let item: IteratorResult<unknown>;
    try {
      item = await this.source.next();
    } catch (error) {
      throw this.delivery ? this.delivery.ended(error) : error;
    }
    if (item.done) return { done: true, value: undefined };
    const result = await this.resultFor(item.value);
    return { done: false, value: this.delivery ? this.delivery.delivered(result) : result };
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.();
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
