import { describe, expect, it } from 'vitest';
import { createRedisSnapshotStore } from '../../src/cluster/redis-snapshot-store.js';
import { activityKey, type StatusSnapshot } from '../../src/domain/index.js';
import { createLocalSnapshotStore, type SnapshotStore } from '../../src/snapshot-store.js';
import { inProcessWorld, redisWorld, sleep, startRedisBacking, type SeamWorld } from './seam-rows.js';

/** The Redis row's TTL: long enough to read a value back at once, short enough to see it pass. */
const TTL_MS = 500;
const KEY = 'token-hash:entity:activity';

function snapshot(activityId: string, rawStatus: string, queuedCount: number | null = null): StatusSnapshot {
  return {
    ...activityKey('11111111-2222-4333-8444-555555555555', activityId),
    rawStatus,
    errorMessage: rawStatus === 'ABORTED' ? 'validation failed: row 3' : null,
    queuedCount,
    fetchedAt: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)).toISOString(),
  };
}

interface StoreRow {
  name: string;
  /** How long a snapshot stays: the Redis store's TTL; the in-process Map has none (undefined) and keeps it until deleted. */
  ttlMs: number | undefined;
  /**
   * Whether `delete` forgets at once. The in-process Map does; the Redis store's
   * delete is a no-op (other instances may still watch the key; its TTL clears it).
   */
  deleteForgets: boolean;
  /** Whether what was stored can still be read while the backing is down: in-process yes; Redis: reads find nothing. */
  readableInOutage: boolean;
  world(): Promise<SeamWorld<SnapshotStore>>;
}

const rows: StoreRow[] = [
  {
    name: 'in-process',
    ttlMs: undefined,
    deleteForgets: true,
    readableInOutage: true,
    world: () => Promise.resolve(inProcessWorld(createLocalSnapshotStore)),
  },
  {
    name: 'Redis',
    ttlMs: TTL_MS,
    deleteForgets: false,
    readableInOutage: false,
    world: async () =>
      redisWorld(await startRedisBacking(), (link) => createRedisSnapshotStore({ link, ttlMs: TTL_MS })),
  },
];

describe.each(rows)('SnapshotStore contract: $name', ({ ttlMs, deleteForgets, readableInOutage, world }) => {
  it('knows nothing of a key never set', async () => {
    const [store] = await (await world()).instances(1);
    expect(await store.get(KEY)).toBeUndefined();
  });

  it('gives back what was set, field for field, per key', async () => {
    const [store] = await (await world()).instances(1);
    const queued = snapshot('aaaaaaaa-0000-4000-8000-000000000001', 'QUEUED', 7);
    const aborted = snapshot('aaaaaaaa-0000-4000-8000-000000000002', 'ABORTED');
    await store.set(KEY, queued);
    await store.set(`${KEY}-2`, aborted);
    expect(await store.get(KEY)).toEqual(queued);
    expect(await store.get(`${KEY}-2`)).toEqual(aborted);
    expect(await store.get(`${KEY}-3`)).toBeUndefined();
  });

  it('keeps the last snapshot set for a key', async () => {
    const [store] = await (await world()).instances(1);
    await store.set(KEY, snapshot('aaaaaaaa-0000-4000-8000-000000000001', 'QUEUED', 7));
    const processed = snapshot('aaaaaaaa-0000-4000-8000-000000000001', 'PROCESSED');
    await store.set(KEY, processed);
    expect(await store.get(KEY)).toEqual(processed);
  });

  it('serves what one instance set to every other instance', async () => {
    const [a, b] = await (await world()).instances(2);
    const queued = snapshot('aaaaaaaa-0000-4000-8000-000000000001', 'QUEUED', 2);
    await a.set(KEY, queued);
    expect(await b.get(KEY)).toEqual(queued);
    const processed = snapshot('aaaaaaaa-0000-4000-8000-000000000001', 'PROCESSED');
    await b.set(KEY, processed);
    expect(await a.get(KEY)).toEqual(processed);
  });

  it(
    ttlMs === undefined ? 'keeps a snapshot with no TTL' : `forgets a snapshot after its ${ttlMs} ms TTL, not before`,
    async () => {
      const [store] = await (await world()).instances(1);
      const queued = snapshot('aaaaaaaa-0000-4000-8000-000000000001', 'QUEUED', 1);
      const setAt = Date.now();
      await store.set(KEY, queued);
      expect(await store.get(KEY)).toEqual(queued);
      if (ttlMs === undefined) {
        await sleep(2 * TTL_MS);
        expect(await store.get(KEY)).toEqual(queued);
        return;
      }
      await expect.poll(() => store.get(KEY), { timeout: 10 * ttlMs, interval: 20 }).toBeUndefined();
      expect(Date.now() - setAt).toBeGreaterThanOrEqual(ttlMs - 20);
    },
  );

  it(`delete ${deleteForgets ? 'forgets the key at once' : 'leaves the key to its TTL'}, and never rejects`, async () => {
    const [store] = await (await world()).instances(1);
    const queued = snapshot('aaaaaaaa-0000-4000-8000-000000000001', 'QUEUED', 1);
    await store.set(KEY, queued);
    await store.set(`${KEY}-kept`, queued);
    await expect(store.delete(KEY)).resolves.toBeUndefined();
    expect(await store.get(KEY)).toEqual(deleteForgets ? undefined : queued);
    expect(await store.get(`${KEY}-kept`)).toEqual(queued);
    await expect(store.delete(`${KEY}-never-set`)).resolves.toBeUndefined();
  });

  it('never rejects while its backing is down', async () => {
    const w = await world();
    const [store] = await w.instances(1);
    const queued = snapshot('aaaaaaaa-0000-4000-8000-000000000001', 'QUEUED', 1);
    await store.set(KEY, queued);
    await w.outage();
    await expect(store.get(KEY)).resolves.toEqual(readableInOutage ? queued : undefined);
    await expect(store.set(`${KEY}-2`, queued)).resolves.toBeUndefined();
    await expect(store.get(`${KEY}-2`)).resolves.toEqual(readableInOutage ? queued : undefined);
    await expect(store.delete(KEY)).resolves.toBeUndefined();
  });
});
