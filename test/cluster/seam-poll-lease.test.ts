import { describe, expect, it, onTestFinished } from 'vitest';
import { createRedisPollLease } from '../../src/cluster/redis-poll-lease.js';
import { createLocalPollLease, type PollLease } from '../../src/poll-lease.js';
import { inProcessWorld, redisWorld, sleep, startRedisBacking, type SeamWorld } from './seam-rows.js';

/** Short enough to see several pass in a test; the Redis lease renews every TTL/3. */
const TTL_MS = 400;
const KEY = 'token-hash:entity:activity';

/** One instance's lease, and how to make it stop renewing what it holds, as a holder that died would. */
interface LeaseInstance {
  lease: PollLease;
  stopRenewing(): void;
}

interface LeaseRow {
  name: string;
  /**
   * Whether a second instance is refused a key another one holds. The Redis lease
   * is one holder per key; the in-process lease grants every claim by design (one
   * instance: no one to share with, see src/poll-lease.ts), so in that row every
   * "refused" below reads "granted".
   */
  exclusive: boolean;
  world(): Promise<SeamWorld<LeaseInstance>>;
}

const rows: LeaseRow[] = [
  {
    name: 'in-process',
    exclusive: false,
    world: () => Promise.resolve(inProcessWorld(() => ({ lease: createLocalPollLease(), stopRenewing() {} }))),
  },
  {
    name: 'Redis',
    exclusive: true,
    world: async () =>
      redisWorld(await startRedisBacking(), (link) => {
        const lease = createRedisPollLease({ link, ttlMs: TTL_MS });
        onTestFinished(() => lease.stop());
        return { lease, stopRenewing: () => lease.stop() };
      }),
  },
];

describe.each(rows)('PollLease contract: $name', ({ exclusive, world }) => {
  it('grants a free key, and grants it again to its holder (a renewal)', async () => {
    const [a] = await (await world()).instances(1);
    expect(await a.lease.claim(KEY)).toBe(true);
    expect(await a.lease.claim(KEY)).toBe(true);
  });

  it('refuses a held key to another instance, and no other key', async () => {
    const [a, b] = await (await world()).instances(2);
    expect(await a.lease.claim(KEY)).toBe(true);
    expect(await b.lease.claim(KEY)).toBe(!exclusive);
    expect(await b.lease.claim(`${KEY}-other`)).toBe(true);
    // The holder keeps it; the other key is now b's.
    expect(await a.lease.claim(KEY)).toBe(true);
    expect(await a.lease.claim(`${KEY}-other`)).toBe(!exclusive);
  });

  it('release frees the key for another instance, which then holds it', async () => {
    const [a, b] = await (await world()).instances(2);
    expect(await a.lease.claim(KEY)).toBe(true);
    expect(await b.lease.claim(KEY)).toBe(!exclusive);
    await expect(a.lease.release(KEY)).resolves.toBeUndefined();
    expect(await b.lease.claim(KEY)).toBe(true);
    expect(await a.lease.claim(KEY)).toBe(!exclusive);
  });

  it("a release by an instance that does not hold the key leaves the holder's lease", async () => {
    const [a, b] = await (await world()).instances(2);
    expect(await a.lease.claim(KEY)).toBe(true);
    await expect(b.lease.release(KEY)).resolves.toBeUndefined();
    expect(await b.lease.claim(KEY)).toBe(!exclusive);
    expect(await a.lease.claim(KEY)).toBe(true);
  });

  it('releasing a key nobody holds resolves, and leaves it free', async () => {
    const [a, b] = await (await world()).instances(2);
    await expect(a.lease.release(KEY)).resolves.toBeUndefined();
    expect(await b.lease.claim(KEY)).toBe(true);
  });

  it('stays with a live holder for many TTLs without it claiming again', async () => {
    const [a, b] = await (await world()).instances(2);
    expect(await a.lease.claim(KEY)).toBe(true);
    await sleep(3 * TTL_MS);
    expect(await b.lease.claim(KEY)).toBe(!exclusive);
    expect(await a.lease.claim(KEY)).toBe(true);
  });

  it("stays with a holder whose claims alone renew it, past the first claim's TTL", async () => {
    const [a, b] = await (await world()).instances(2);
    a.stopRenewing();
    expect(await a.lease.claim(KEY)).toBe(true);
    // Six claims a third of a TTL apart: twice the TTL in all.
    for (let i = 0; i < 6; i += 1) {
      await sleep(TTL_MS / 3);
      expect(await a.lease.claim(KEY)).toBe(true);
    }
    expect(await b.lease.claim(KEY)).toBe(!exclusive);
  });

  it('frees the key one TTL after its holder stopped renewing it, not before', async () => {
    const [a, b] = await (await world()).instances(2);
    const claimedAt = Date.now();
    expect(await a.lease.claim(KEY)).toBe(true);
    a.stopRenewing();
    expect(await b.lease.claim(KEY)).toBe(!exclusive);
    await expect.poll(() => b.lease.claim(KEY), { timeout: 10 * TTL_MS, interval: 20 }).toBe(true);
    const freedAfterMs = Date.now() - claimedAt;
    // Redis: not before the TTL (a little slack for the two clocks' rounding). In-process: never held.
    if (exclusive) expect(freedAfterMs).toBeGreaterThanOrEqual(TTL_MS - 20);
    // b holds it now.
    expect(await a.lease.claim(KEY)).toBe(!exclusive);
  });

  it('never rejects, and grants every claim while its backing is down (each instance polls its own keys)', async () => {
    const w = await world();
    const [a, b] = await w.instances(2);
    expect(await a.lease.claim(KEY)).toBe(true);
    await w.outage();
    await expect(a.lease.claim(KEY)).resolves.toBe(true);
    await expect(b.lease.claim(KEY)).resolves.toBe(true);
    await expect(a.lease.release(KEY)).resolves.toBeUndefined();
    await expect(b.lease.release(KEY)).resolves.toBeUndefined();
  });
});
