import { describe, expect, it, onTestFinished } from 'vitest';
import { activityKey } from '../../src/domain/index.js';
import { createSimulator } from '../../src/simulator/server.js';
import { UpstreamError } from '../../src/upstream/upstream-error.js';
import { type StatusSourceOptions } from '../../src/upload-activity/status-source.js';
import { testClient, testSource } from '../helpers/upstream.js';

const ENTITY = '11111111-2222-4333-8444-555555555555';
const TOKEN = 'token-a';

/** A real StatusSource over a real client against the simulator on 127.0.0.1. */
async function setup(options: Partial<Omit<StatusSourceOptions, 'client'>> = {}) {
  const simulator = createSimulator({ stepMs: 0 });
  const url = await simulator.start();
  onTestFinished(() => simulator.stop());
  const client = testClient(url);
  const source = testSource(client, options);
  const activity = (status = 'QUEUED') =>
    activityKey(ENTITY, simulator.createActivity({ taxableEntityId: ENTITY, status, isAuto: false }).activityId);
  return { simulator, source, activity };
}

describe('StatusSource', () => {
  it('coalesces concurrent reads of one (token, activity) into one upstream request', async () => {
    const { simulator, source, activity } = await setup();
    const key = activity();
    const release = simulator.hold();
    const reads = Array.from({ length: 20 }, () => source.load(TOKEN, key));
    await expect.poll(() => simulator.stats.inFlight).toBe(1);
    release();
    const snapshots = await Promise.all(reads);
    expect(new Set(snapshots).size).toBe(1);
    expect(simulator.stats.requests).toBe(1);
    expect(source.stats).toEqual({ upstream: 1, coalesced: 19, cached: 0, cancelled: 0 });
  });

  it('keeps the token in every key: two tokens never share a read or a cached answer', async () => {
    const { simulator, source, activity } = await setup();
    const key = activity('PROCESSED');
    simulator.setTokenStatus('token-b', 403);
    const release = simulator.hold();
    const a = source.load(TOKEN, key);
    const b = source.load('token-b', key).catch((e: unknown) => e);
    await expect.poll(() => simulator.stats.inFlight).toBe(2);
    release();
    expect((await a).rawStatus).toBe('PROCESSED');
    expect(await b).toMatchObject({ code: 'FORBIDDEN' });
    // The first token's terminal answer is cached for it alone.
    await expect(source.load('token-b', key)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await source.load(TOKEN, key)).rawStatus).toBe('PROCESSED');
    expect(simulator.stats.requests).toBe(3);
    expect(source.stats).toEqual({ upstream: 3, coalesced: 0, cached: 1, cancelled: 0 });
  });

  it('caches terminal snapshots, and reads non-terminal ones fresh every time', async () => {
    const { simulator, source, activity } = await setup();
    const done = activity('ABORTED');
    const moving = activity('QUEUED');
    const first = await source.load(TOKEN, done);
    expect(await source.load(TOKEN, done)).toBe(first);
    await source.load(TOKEN, moving);
    await source.load(TOKEN, moving);
    expect(simulator.stats.byActivity.get(`${done.taxableEntityId}:${done.activityId}`)).toBe(1);
    expect(simulator.stats.byActivity.get(`${moving.taxableEntityId}:${moving.activityId}`)).toBe(2);
  });

  it('does not cache with TERMINAL_CACHE_SIZE=0', async () => {
    const { simulator, source, activity } = await setup({ terminalCacheSize: 0 });
    const done = activity('PROCESSED');
    await source.load(TOKEN, done);
    await source.load(TOKEN, done);
    expect(simulator.stats.requests).toBe(2);
  });

  it('keeps at most maxConcurrency requests in flight; the rest wait in arrival order', async () => {
    const { simulator, source, activity } = await setup({ maxConcurrency: 2 });
    const keys = Array.from({ length: 6 }, () => activity());
    const release = simulator.hold();
    const reads = source.loadMany(TOKEN, keys);
    await expect.poll(() => simulator.stats.inFlight).toBe(2);
    release();
    expect((await reads).every((r) => !(r instanceof Error))).toBe(true);
    expect(simulator.stats.maxInFlight).toBe(2);
    expect([...simulator.stats.byActivity.keys()]).toEqual(keys.map((k) => `${k.taxableEntityId}:${k.activityId}`));
  });

  it('answers loadMany with one entry per key, an Error in place of a failed one', async () => {
    const { source, activity } = await setup();
    const ok = activity('UPLOADED');
    const missing = activityKey(ENTITY, '99999999-9999-4999-8999-999999999999');
    const results = await source.loadMany(TOKEN, [ok, missing, ok]);
    expect(
      results.map((r) => (r instanceof UpstreamError ? r.code : r instanceof Error ? 'Error' : r.rawStatus)),
    ).toEqual(['UPLOADED', 'NOT_FOUND', 'UPLOADED']);
  });

  describe('honest coalescing of retries', () => {
    it('never hands a read that asked for retries the outcome of a single-attempt poll', async () => {
      const { simulator, source, activity } = await setup();
      const key = activity('PROCESSING');
      // The first request to arrive fails once with a 503.
      simulator.addFault({ status: 503, times: 1 });
      const release = simulator.hold();
      const poll = source.load(TOKEN, key, { retries: 0 }).catch((e: unknown) => e);
      await expect.poll(() => simulator.stats.inFlight).toBe(1);
      const query = source.load(TOKEN, key);
      await expect.poll(() => simulator.stats.inFlight).toBe(2);
      release();
      expect(await poll).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
      expect((await query).rawStatus).toBe('PROCESSING');
      expect(source.stats).toMatchObject({ upstream: 2, coalesced: 0 });
    });

    it('lets a single-attempt poll join a read in flight that retries', async () => {
      const { simulator, source, activity } = await setup();
      const key = activity('PROCESSING');
      simulator.addFault({ status: 503, times: 1 });
      const release = simulator.hold();
      const query = source.load(TOKEN, key);
      await expect.poll(() => simulator.stats.inFlight).toBe(1);
      const poll = source.load(TOKEN, key, { retries: 0 });
      release();
      // Both get the query's retried answer; upstream saw the failed attempt and its retry, nothing more.
      expect((await poll).rawStatus).toBe('PROCESSING');
      expect(await poll).toBe(await query);
      expect(simulator.stats.requests).toBe(2);
      expect(source.stats).toMatchObject({ upstream: 1, coalesced: 1 });
    });
  });
});
