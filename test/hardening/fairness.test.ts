import { describe, expect, it } from 'vitest';
import {
  UploadActivitiesDocument,
  UploadActivityDocument,
  UploadActivityStatusChangedDocument,
} from '../../schema/generated/graphql.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { ENTITY, startStack } from '../helpers/stack.js';
import { connect, record } from '../helpers/ws-client.js';

describe('fair queueing and deadlines', () => {
  it("serves one caller's single read right after the read in flight, not behind another caller's burst", async () => {
    const { simulator, query, app } = await startStack({ UPSTREAM_MAX_CONCURRENCY: '1' });
    const burst = Array.from(
      { length: 12 },
      () => simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 1 }).activityId,
    );
    const single = simulator.createActivity({ taxableEntityId: ENTITY, status: 'UPLOADED' }).activityId;
    const release = simulator.hold();
    const heavy = query(
      UploadActivitiesDocument,
      { taxableEntityId: ENTITY, activityIds: burst },
      { token: 'caller-a' },
    );
    await expect.poll(() => app.source.stats.upstream).toBe(12);
    const light = query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: single }, { token: 'caller-b' });
    await expect.poll(() => app.source.stats.upstream).toBe(13);
    release();
    await Promise.all([heavy, light]);
    const order = [...simulator.stats.byActivity.keys()].map((key) => key.split(':')[1]);
    // The burst's first read was already in flight; the single read goes next, not 13th.
    expect(order.indexOf(single)).toBe(1);
    expect(order).toHaveLength(13);
  });

  it('alternates between callers with waiting reads', async () => {
    const { simulator, query, app } = await startStack({ UPSTREAM_MAX_CONCURRENCY: '1' });
    const make = () =>
      Array.from({ length: 3 }, () => simulator.createActivity({ taxableEntityId: ENTITY, status: 'INIT' }).activityId);
    const [a, b] = [make(), make()];
    const release = simulator.hold();
    const first = query(UploadActivitiesDocument, { taxableEntityId: ENTITY, activityIds: a }, { token: 'caller-a' });
    await expect.poll(() => app.source.stats.upstream).toBe(3);
    const second = query(UploadActivitiesDocument, { taxableEntityId: ENTITY, activityIds: b }, { token: 'caller-b' });
    await expect.poll(() => app.source.stats.upstream).toBe(6);
    release();
    await Promise.all([first, second]);
    const order = [...simulator.stats.byActivity.keys()].map((key) => key.split(':')[1]);
    expect(order).toEqual([a[0], b[0], a[1], b[1], a[2], b[2]]);
  });

  it('answers UPSTREAM_UNAVAILABLE at the deadline; a queued read nobody waits for leaves the queue unsent', async () => {
    const { simulator, query, app } = await startStack({
      UPSTREAM_MAX_CONCURRENCY: '1',
      REQUEST_DEADLINE_MS: '150',
      POLL_INTERVAL_MS: '5000',
      POLL_MAX_INTERVAL_MS: '5000',
    });
    const [x, y, z] = ['QUEUED', 'QUEUED', 'UPLOADED'].map(
      (status) => simulator.createActivity({ taxableEntityId: ENTITY, status, isAuto: false }).activityId,
    );
    const release = simulator.hold();
    // A subscriber keeps the read of x alive (and the one slot busy) after its query gives up.
    const sub = record(connect(app.url), UploadActivityStatusChangedDocument, {
      taxableEntityId: ENTITY,
      activityId: x!,
    });
    await expect.poll(() => simulator.stats.inFlight).toBe(1);
    const first = query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: x! });
    const second = query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: y! });
    const results = await Promise.all([first, second]);
    for (const result of results) {
      expect(result.errors![0]).toMatchObject({
        message: 'ClearTax did not answer before the request deadline',
        extensions: { code: 'UPSTREAM_UNAVAILABLE' },
      });
    }
    // Both queries' reads were still queued (the query of x does not settle for the poll's single
    // attempt, so it queued a read of its own): both left the queue unsent.
    expect(app.source.stats.cancelled).toBe(2);
    release();
    await expect.poll(() => sub.events.length).toBe(1);
    const next = await query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: z! });
    expect(next.data!.uploadActivity!.status).toBe('UPLOADED');
    expect([...simulator.stats.byActivity.keys()].map((key) => key.split(':')[1])).toEqual([x, z]);
  });

  it('aborts a read in flight once its only caller gave up, long before the upstream timeout', async () => {
    let closed = 0;
    const silent = await startFakeUpstream((req) => req.socket.on('close', () => (closed += 1)));
    const { query, app } = await startStack({
      CLEARTAX_BASE_URL: silent.url,
      REQUEST_DEADLINE_MS: '100',
      UPSTREAM_TIMEOUT_MS: '20000',
    });
    const result = await query(UploadActivityDocument, {
      taxableEntityId: ENTITY,
      activityId: '22222222-3333-4444-8555-666666666666',
    });
    expect(result.errors![0]!.extensions!.code).toBe('UPSTREAM_UNAVAILABLE');
    await expect.poll(() => closed, { timeout: 5000 }).toBe(1);
    expect(app.source.stats.cancelled).toBe(1);
    expect(silent.requests).toHaveLength(1);
  });

  it('lets a shared read go on for a subscriber after the query that started it gave up', async () => {
    const { simulator, query, app } = await startStack({
      REQUEST_DEADLINE_MS: '150',
      POLL_INTERVAL_MS: '5000',
      POLL_MAX_INTERVAL_MS: '5000',
    });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSING', isAuto: false }).activityId;
    const release = simulator.hold();
    const gaveUp = query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: a });
    await expect.poll(() => simulator.stats.inFlight).toBe(1);
    const sub = record(connect(app.url), UploadActivityStatusChangedDocument, {
      taxableEntityId: ENTITY,
      activityId: a,
    });
    await expect.poll(() => app.source.stats.coalesced).toBe(1); // the poll joined the query's read
    expect((await gaveUp).errors![0]!.extensions!.code).toBe('UPSTREAM_UNAVAILABLE');
    release();
    await expect.poll(() => sub.events.length).toBe(1);
    expect(sub.events[0]!.data!.uploadActivityStatusChanged.status).toBe('PROCESSING');
    expect(simulator.stats.requests).toBe(1);
    expect(app.source.stats.cancelled).toBe(0);
  });
});
