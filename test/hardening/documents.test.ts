import { describe, expect, it } from 'vitest';
import { getIntrospectionQuery } from 'graphql';
import { ENTITY, TOKEN, startStack } from '../helpers/stack.js';
import { MB, heapAfterGc } from '../helpers/heap.js';
import { connect } from '../helpers/ws-client.js';

/** What one WebSocket client sent in the adversarial pass: ~93 KB, 19,000 fragment spreads. */
const spreadBomb = (i: number) => `query Bomb${i} { ${'...F '.repeat(19_000)} } fragment F on Query { __typename }`;
/** A valid document just under the token limit: 200 fragments, each spread once (~1,800 tokens, ~600 KB of AST). */
const bigValid = (i: number) =>
  `query Big${i} { ${Array.from({ length: 200 }, (_, j) => `...F${j}`).join(' ')} } ` +
  Array.from({ length: 200 }, (_, j) => `fragment F${j} on Query { __typename }`).join(' ');

function errorsOf(client: ReturnType<typeof connect>, query: string): Promise<unknown> {
  return new Promise((resolve) => {
    client.subscribe({ query }, { next: () => undefined, error: resolve, complete: () => resolve('complete') });
  });
}

describe('documents from a hostile client (issue 8, item 1)', () => {
  it('stops parsing at MAX_QUERY_TOKENS on WebSocket: 30 spread bombs leave nothing on the heap', async () => {
    const { app } = await startStack();
    const client = connect(app.url);
    await errorsOf(client, '{ __typename }'); // connection and schema warm
    const before = heapAfterGc();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => errorsOf(client, spreadBomb(i))));
    for (const answer of answers) {
      expect(answer).toEqual([expect.objectContaining({ message: expect.stringMatching(/Document contains more th\w+ 2000 tokens/), extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]);
    }
    const grown = heapAfterGc() - before;
    // Before the fix each bomb was parsed, validated and cached: ~9.9 MB each, ~300 MB here.
    expect(grown).toBeLessThan(20 * MB);
    expect(app.documentCache.documents).toBe(1); // the warm-up document only
  });

  it('refuses the same bomb over HTTP with the same limit', async () => {
    const { raw } = await startStack();
    const { status, json } = await raw({ query: spreadBomb(0) }, { 'X-Cleartax-Auth-Token': TOKEN });
    expect(status).toBe(400);
    expect(json.errors![0]).toMatchObject({ extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
  });

  it('bounds the shared document cache by bytes: 200 distinct valid documents of ~1,800 tokens stay within it', async () => {
    const { app, raw } = await startStack();
    const before = heapAfterGc();
    for (let i = 0; i < 200; i++) {
      const { json } = await raw({ query: bigValid(i) }, { 'X-Cleartax-Auth-Token': TOKEN });
      expect(json.errors).toBeUndefined();
    }
    const grown = heapAfterGc() - before;
    // Unbounded by bytes, the cache would keep all 200 (~120 MB).
    expect(app.documentCache.bytes).toBeLessThanOrEqual(16 * MB);
    expect(app.documentCache.documents).toBeLessThan(200);
    expect(grown).toBeLessThan(48 * MB);
  });

  it('still takes the standard introspection query, and an operation of ordinary size', async () => {
    const { raw, simulator } = await startStack();
    const introspection = await raw({ query: getIntrospectionQuery() });
    expect(introspection.status).toBe(200);
    expect(introspection.json.errors).toBeUndefined();
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 2 });
    const ok = await raw(
      { query: `{ uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${a.activityId}") { id status queuedCount } }` },
      { 'X-Cleartax-Auth-Token': TOKEN },
    );
    expect(ok.json.data).toMatchObject({ uploadActivity: { status: 'QUEUED', queuedCount: 2 } });
  });
});
