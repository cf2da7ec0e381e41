import { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createSharedSubscribe } from '../../src/server/shared-subscribe.js';

const events = [{ n: 1 }, { n: 2 }];
let resolved = 0;

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      tick: {
        type: GraphQLInt,
        args: { times: { type: GraphQLInt } },
        subscribe: async function* () {
          yield* events;
        },
        resolve: (event: { n: number }, args: { times: number }) => {
          resolved += 1;
          return event.n * args.times;
        },
      },
    },
  }),
});

async function collect(stream: AsyncIterableIterator<ExecutionResult> | ExecutionResult): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const result of stream as AsyncIterable<ExecutionResult>) out.push(result.data?.tick);
  return out;
}

describe('createSharedSubscribe', () => {
  it('executes an event once for subscribers with the same document and variables', async () => {
    resolved = 0;
    const subscribe = createSharedSubscribe();
    const document = parse('subscription($t: Int) { tick(times: $t) }');
    const results = await Promise.all([
      subscribe({ schema, document, variableValues: { t: 10 } }).then(collect),
      subscribe({ schema, document, variableValues: { t: 10 } }).then(collect),
      subscribe({ schema, document, variableValues: { t: 3 } }).then(collect),
    ]);
    expect(results).toEqual([
      [10, 20],
      [10, 20],
      [3, 6],
    ]);
    expect(resolved).toBe(4);
  });

  it('returns request errors as a result, like graphql-js subscribe', async () => {
    const subscribe = createSharedSubscribe();
    const result = (await subscribe({
      schema,
      document: parse('subscription($t: Int) { tick(times: $t) }'),
      variableValues: { t: 'x' },
    })) as ExecutionResult;
    expect(result.errors?.[0]?.message).toContain('$t');
  });

  it('passes return() through to the source stream', async () => {
    const subscribe = createSharedSubscribe();
    const stream = (await subscribe({
      schema,
      document: parse('subscription { tick(times: 1) }'),
    })) as AsyncIterableIterator<ExecutionResult>;
    expect((await stream.next()).value).toEqual({ data: { tick: 1 } });
    await stream.return!();
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });
});
