import { describe, expect, it } from 'vitest';
import { UploadActivitiesDocument, UploadActivitiesStatusChangedDocument } from '../../schema/generated/graphql.js';
import { ENTITY, TOKEN, startStack } from '../helpers/stack.js';
import { connect, record } from '../helpers/ws-client.js';

/**
 * RATE_LIMIT_PER_MINUTE counts activity reads: each id of an operation is one, so
 * one request for many ids is charged as many reads, not as one operation.
 */
describe('rate limit charged per activity id, not per operation', () => {
  it('refuses one HTTP request whose ids alone exceed the limit (limit 5, 6 ids), before any upstream call', async () => {
    const { simulator, query } = await startStack({ RATE_LIMIT_PER_MINUTE: '5' });
    const ids = Array.from(
      { length: 6 },
      () => simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED', isAuto: false }).activityId,
    );
    const result = await query(UploadActivitiesDocument, { taxableEntityId: ENTITY, activityIds: ids });
    expect(result.data ?? null).toBeNull();
    expect(result.errors).toEqual([
      expect.objectContaining({
        extensions: expect.objectContaining({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) }),
      }),
    ]);
    expect(simulator.stats.requests).toBe(0);
  });

  it('charges every id of earlier requests: limit 6, a 4-id request passes, then a 3-id one is refused', async () => {
    const { simulator, query } = await startStack({ RATE_LIMIT_PER_MINUTE: '6' });
    const ids = Array.from(
      { length: 4 },
      () => simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED', isAuto: false }).activityId,
    );
    const first = await query(UploadActivitiesDocument, { taxableEntityId: ENTITY, activityIds: ids });
    expect(first.errors).toBeUndefined();
    expect(first.data!.uploadActivities.map((a) => a!.status)).toEqual([
      'PROCESSED',
      'PROCESSED',
      'PROCESSED',
      'PROCESSED',
    ]);
    const requests = simulator.stats.requests;
    const second = await query(UploadActivitiesDocument, { taxableEntityId: ENTITY, activityIds: ids.slice(0, 3) });
    expect(second.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED' }) }),
    ]);
    expect(simulator.stats.requests).toBe(requests);
    // Another caller has its own allowance.
    const other = await query(
      UploadActivitiesDocument,
      { taxableEntityId: ENTITY, activityIds: ids.slice(0, 3) },
      { token: `${TOKEN}-other` },
    );
    expect(other.errors).toBeUndefined();
  });

  it('charges a subscription per id on WebSocket too: limit 5, one subscription to 6 ids is refused, never polled', async () => {
    const { app, simulator } = await startStack({
      RATE_LIMIT_PER_MINUTE: '5',
      POLL_INTERVAL_MS: '20',
      POLL_MAX_INTERVAL_MS: '40',
    });
    const ids = Array.from(
      { length: 6 },
      () =>
        simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 1, isAuto: false })
          .activityId,
    );
    const sub = record(connect(app.url), UploadActivitiesStatusChangedDocument, {
      taxableEntityId: ENTITY,
      activityIds: ids,
    });
    // Refused, or (wrongly) admitted and delivering: whichever comes first.
    await expect.poll(() => sub.isDone || sub.events.length > 0, { timeout: 5000 }).toBe(true);
    expect(sub.events).toEqual([]);
    const refusal = await sub.done.then(
      () => undefined,
      (errors: unknown) => errors,
    );
    expect(refusal).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED' }) }),
    ]);
    expect(simulator.stats.requests).toBe(0);
    expect(app.watcher.size).toEqual({ keys: 0, subscriptions: 0 });
  });
});

describe('rate limit per client address where callers are not verified (passthrough, open)', () => {
  it('charges the address beside the caller: new tokens from one address share RATE_LIMIT_PER_ADDRESS_PER_MINUTE; another address is unaffected', async () => {
    const { simulator, query } = await startStack({
      RATE_LIMIT_PER_MINUTE: '100',
      RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '5',
      TRUST_PROXY: 'true',
    });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED', isAuto: false });
    const from = (address: string) => ({ 'x-forwarded-for': address });
    for (let i = 0; i < 5; i++) {
      const ok = await query(
        UploadActivitiesDocument,
        { taxableEntityId: ENTITY, activityIds: [a.activityId] },
        { token: `token-${i}`, headers: from('203.0.113.20') },
      );
      expect(ok.errors).toBeUndefined();
    }
    const over = await query(
      UploadActivitiesDocument,
      { taxableEntityId: ENTITY, activityIds: [a.activityId] },
      { token: 'token-fresh', headers: from('203.0.113.20') },
    );
    expect(over.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED' }) }),
    ]);
    const elsewhere = await query(
      UploadActivitiesDocument,
      { taxableEntityId: ENTITY, activityIds: [a.activityId] },
      { token: 'token-fresh', headers: from('198.51.100.20') },
    );
    expect(elsewhere.errors).toBeUndefined();
  });
});
