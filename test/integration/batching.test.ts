import { describe, expect, it } from 'vitest';
import { UploadActivitiesDocument, UploadActivityDocument } from '../../schema/generated/graphql.js';
import { ENTITY, TOKEN, startStack } from '../helpers/stack.js';

const MISSING = '99999999-9999-4999-8999-999999999999';

describe('Query.uploadActivities', () => {
  it('answers in the order asked, duplicates included, each failure null with its own error', async () => {
    const { simulator, query } = await startStack();
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 3 });
    const b = simulator.createActivity({ taxableEntityId: ENTITY, status: 'ABORTED', errorMessage: 'bad row' });
    const ids = [b.activityId, MISSING, a.activityId, b.activityId, MISSING];
    const result = await query(UploadActivitiesDocument, { taxableEntityId: ENTITY, activityIds: ids });
    expect(result.data!.uploadActivities.map((x) => x && `${x.activityId}:${x.status}`)).toEqual([
      `${b.activityId}:ABORTED`,
      null,
      `${a.activityId}:QUEUED`,
      `${b.activityId}:ABORTED`,
      null,
    ]);
    expect(result.errors!.map((e) => [e.path, e.extensions!.code])).toEqual([
      [['uploadActivities', 1], 'NOT_FOUND'],
      [['uploadActivities', 4], 'NOT_FOUND'],
    ]);
    expect(simulator.stats.requests).toBe(3);
  });

  it('answers an empty list with an empty list and no upstream call', async () => {
    const { simulator, query } = await startStack();
    const result = await query(UploadActivitiesDocument, { taxableEntityId: ENTITY, activityIds: [] });
    expect(result).toEqual({ data: { uploadActivities: [] } });
    expect(simulator.stats.requests).toBe(0);
  });

  it('rejects more than MAX_ACTIVITY_IDS ids with BAD_USER_INPUT and no upstream call', async () => {
    const { simulator, query } = await startStack({ MAX_ACTIVITY_IDS: '3' });
    const ids = Array.from({ length: 4 }, () => simulator.createActivity({ taxableEntityId: ENTITY }).activityId);
    const result = await query(UploadActivitiesDocument, { taxableEntityId: ENTITY, activityIds: ids });
    expect(result.data).toBeUndefined(); // refused before execution, with the variables coerced
    expect(result.errors![0]).toMatchObject({
      message: 'activityIds may list at most 3 ids, got 4',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(simulator.stats.requests).toBe(0);
    const ok = await query(UploadActivitiesDocument, { taxableEntityId: ENTITY, activityIds: ids.slice(0, 3) });
    expect(ok.data!.uploadActivities).toHaveLength(3);
  });

  it('rejects a malformed id in the list before anything reaches upstream', async () => {
    const { simulator, query } = await startStack();
    const a = simulator.createActivity({ taxableEntityId: ENTITY });
    const result = await query(UploadActivitiesDocument, {
      taxableEntityId: ENTITY,
      activityIds: [a.activityId, 'nope'],
    });
    expect(result.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(simulator.stats.requests).toBe(0);
  });
});

describe('batching and dedupe, counted at the upstream', () => {
  it('costs one upstream request per distinct activity for any mix of list entries and aliases', async () => {
    const { simulator, raw } = await startStack();
    const [a, b, c] = ['INIT', 'QUEUED', 'PROCESSING'].map((status) =>
      simulator.createActivity({ taxableEntityId: ENTITY, status }),
    );
    const list = [a, a, b, b, c].map((x) => `"${x!.activityId}"`).join(', ');
    const result = await raw(
      {
        query: `{
          list: uploadActivities(taxableEntityId: "${ENTITY}", activityIds: [${list}]) { status }
          one: uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${a!.activityId}") { status }
          again: uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${a!.activityId}") { rawStatus }
          other: uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${c!.activityId}") { id }
        }`,
      },
      { 'X-Cleartax-Auth-Token': TOKEN },
    );
    expect(result.json.errors).toBeUndefined();
    expect(result.json.data).toMatchObject({
      list: [
        { status: 'INIT' },
        { status: 'INIT' },
        { status: 'QUEUED' },
        { status: 'QUEUED' },
        { status: 'PROCESSING' },
      ],
      one: { status: 'INIT' },
      again: { rawStatus: 'INIT' },
    });
    expect(simulator.stats.requests).toBe(3);
    expect([...simulator.stats.byActivity.values()]).toEqual([1, 1, 1]);
  });

  it('shares one upstream request among 200 concurrent HTTP requests for one activity', async () => {
    const { simulator, app, query } = await startStack();
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSING' });
    const release = simulator.hold();
    const pending = Array.from({ length: 200 }, () =>
      query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: a.activityId }),
    );
    // Release upstream only once every request has reached the StatusSource.
    await expect.poll(() => app.source.stats.upstream + app.source.stats.coalesced, { timeout: 15_000 }).toBe(200);
    release();
    const results = await Promise.all(pending);
    expect(results.every((r) => r.data?.uploadActivity?.status === 'PROCESSING')).toBe(true);
    expect(simulator.stats.requests).toBe(1);
    expect(app.source.stats).toMatchObject({ upstream: 1, coalesced: 199 });
  });

  it('reads non-terminal activities fresh every time, but a terminal one from upstream once', async () => {
    const { simulator, query } = await startStack();
    const moving = simulator.createActivity({
      taxableEntityId: ENTITY,
      status: 'QUEUED',
      queuedCount: 2,
      isAuto: false,
    });
    const done = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED', isAuto: false });
    const first = await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: moving.activityId });
    simulator.setState(ENTITY, moving.activityId, { queuedCount: 1 });
    const second = await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: moving.activityId });
    expect([first.data!.uploadActivity!.queuedCount, second.data!.uploadActivity!.queuedCount]).toEqual([2, 1]);

    const d1 = await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: done.activityId });
    const d2 = await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: done.activityId });
    expect([d1.data!.uploadActivity!.status, d2.data!.uploadActivity!.status]).toEqual(['PROCESSED', 'PROCESSED']);
    expect(d2.data!.uploadActivity!.fetchedAt).toBe(d1.data!.uploadActivity!.fetchedAt);
    expect(simulator.stats.byActivity.get(`${ENTITY}:${moving.activityId}`)).toBe(2);
    expect(simulator.stats.byActivity.get(`${ENTITY}:${done.activityId}`)).toBe(1);
  });

  it('evicts cached terminal snapshots by age', async () => {
    const { simulator, query } = await startStack({ TERMINAL_CACHE_TTL_MS: '20' });
    const done = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED', isAuto: false });
    const first = await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: done.activityId });
    const readAt = Date.parse(first.data!.uploadActivity!.fetchedAt);
    // Wait for the condition itself (the snapshot has outlived its TTL), not for a guessed time.
    await expect.poll(() => Date.now() - readAt, { interval: 5 }).toBeGreaterThan(60);
    await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: done.activityId });
    expect(simulator.stats.requests).toBe(2);
  });

  it('never hands one token answer to another token, in flight or cached', async () => {
    const { simulator, app, query } = await startStack();
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSED', isAuto: false });
    simulator.setTokenStatus('bad-token', 401);
    const release = simulator.hold();
    const good = query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: a.activityId });
    const bad = query(
      UploadActivityDocument,
      { taxableEntityId: ENTITY, activityId: a.activityId },
      { token: 'bad-token' },
    );
    await expect.poll(() => simulator.stats.inFlight, { timeout: 5000 }).toBe(2);
    release();
    const [goodResult, badResult] = await Promise.all([good, bad]);
    expect(goodResult.data!.uploadActivity!.status).toBe('PROCESSED');
    expect(badResult.data!.uploadActivity).toBeNull();
    expect(badResult.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');

    // The good token's terminal answer is cached; the bad token still gets its own 401
    // (remembered at the edge now: ClearTax refused it a moment ago, so no second call).
    const badAgain = await query(
      UploadActivityDocument,
      { taxableEntityId: ENTITY, activityId: a.activityId },
      { token: 'bad-token' },
    );
    const goodAgain = await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: a.activityId });
    expect(badAgain.data!.uploadActivity).toBeNull();
    expect(badAgain.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(goodAgain.data!.uploadActivity!.status).toBe('PROCESSED');
    expect(simulator.stats.requests).toBe(2);
    expect(app.source.stats).toMatchObject({ upstream: 2, cached: 1, coalesced: 0 });
  });

  it('keeps at most UPSTREAM_MAX_CONCURRENCY requests in flight, the rest waiting in order', async () => {
    const { simulator, query } = await startStack({ UPSTREAM_MAX_CONCURRENCY: '4' }, { delayMs: 20 });
    const ids = Array.from(
      { length: 24 },
      () => simulator.createActivity({ taxableEntityId: ENTITY, status: 'UPLOADED' }).activityId,
    );
    const result = await query(UploadActivitiesDocument, { taxableEntityId: ENTITY, activityIds: ids });
    expect(result.data!.uploadActivities.every((x) => x?.status === 'UPLOADED')).toBe(true);
    expect(simulator.stats.requests).toBe(24);
    expect(simulator.stats.maxInFlight).toBe(4);
  });

  it('serves waiting requests first-come, first-served', async () => {
    const { simulator, query } = await startStack({ UPSTREAM_MAX_CONCURRENCY: '1' });
    const ids = Array.from({ length: 10 }, () => simulator.createActivity({ taxableEntityId: ENTITY }).activityId);
    await query(UploadActivitiesDocument, { taxableEntityId: ENTITY, activityIds: ids });
    expect([...simulator.stats.byActivity.keys()]).toEqual(ids.map((id) => `${ENTITY}:${id}`));
    expect(simulator.stats.maxInFlight).toBe(1);
  });
});
