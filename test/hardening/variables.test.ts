import { describe, expect, it } from 'vitest';
import { print } from 'graphql';
import { UploadActivitiesDocument } from '../../schema/generated/graphql.js';
import { ENTITY, TOKEN, startStack } from '../helpers/stack.js';
import { connect } from '../helpers/ws-client.js';

const invalidIds = (n: number) => Array.from({ length: n }, (_, i) => `not-a-uuid-${i}`);
const roomy = { MAX_ACTIVITY_IDS: '10000', MAX_OPERATION_IDS: '100000', MAX_BODY_BYTES: '1048576' };

describe('variable coercion is bounded', () => {
  it('answers 10,000 invalid ids over HTTP with BAD_USER_INPUT only (the error limit included), and no upstream call', async () => {
    const { raw, simulator } = await startStack(roomy);
    const { status, json } = await raw(
      {
        query: print(UploadActivitiesDocument),
        variables: { taxableEntityId: ENTITY, activityIds: invalidIds(10_000) },
      },
      { 'X-Cleartax-Auth-Token': TOKEN },
    );
    expect(status).toBe(400);
    expect(json.errors!.length).toBeGreaterThan(0);
    expect(json.errors!.length).toBeLessThanOrEqual(51);
    expect(new Set(json.errors!.map((error) => error.extensions?.code))).toEqual(new Set(['BAD_USER_INPUT']));
    expect(simulator.stats.requests).toBe(0);
  });

  it('answers them over WebSocket with at most 51 errors, all BAD_USER_INPUT, the last saying the limit was reached', async () => {
    const { app, simulator } = await startStack(roomy);
    const errors = await new Promise<{ message: string; extensions?: { code?: string } }[]>((resolve) => {
      connect(app.url).subscribe(
        {
          query: print(UploadActivitiesDocument),
          variables: { taxableEntityId: ENTITY, activityIds: invalidIds(10_000) },
        },
        { next: () => undefined, error: (error) => resolve(error as never), complete: () => resolve([]) },
      );
    });
    expect(errors.length).toBe(51);
    expect(new Set(errors.map((error) => error.extensions?.code))).toEqual(new Set(['BAD_USER_INPUT']));
    expect(errors.at(-1)!.message).toMatch(/Too many errors/);
    expect(simulator.stats.requests).toBe(0);
  });

  it('refuses a list longer than MAX_ACTIVITY_IDS before coercing it', async () => {
    const { raw } = await startStack({ MAX_BODY_BYTES: '1048576' });
    const { status, json } = await raw(
      {
        query: print(UploadActivitiesDocument),
        variables: { taxableEntityId: ENTITY, activityIds: invalidIds(5_000) },
      },
      { 'X-Cleartax-Auth-Token': TOKEN },
    );
    expect(status).toBe(400);
    expect(json.errors).toEqual([
      expect.objectContaining({
        message: 'activityIds may list at most 100 ids, got 5000',
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ]);
  });
});
