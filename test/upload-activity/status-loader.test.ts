import { describe, expect, it, onTestFinished } from 'vitest';
import { activityKey, type ActivityKey } from '../../src/domain/index.js';
import { createSimulator } from '../../src/simulator/server.js';
import { createStatusLoader } from '../../src/upload-activity/status-loader.js';
import { type StatusSource } from '../../src/upload-activity/status-source.js';
import { testClient, testSource } from '../helpers/upstream.js';

const ENTITY = '11111111-2222-4333-8444-555555555555';
const TOKEN = 'token-a';

/**
 * A real StatusSource against the simulator, with its batch calls recorded on the
 * way through (as DataLoader's own tests record their batch function's calls).
 */
async function setup() {
  const simulator = createSimulator({ stepMs: 0 });
  const url = await simulator.start();
  onTestFinished(() => simulator.stop());
  const client = testClient(url, { retries: 0 });
  const source = testSource(client, { maxConcurrency: 8, retries: 0, terminalCacheSize: 0, terminalCacheTtlMs: 1 });
  const batches: string[][] = [];
  const recorded: Pick<StatusSource, 'loadMany'> = {
    loadMany(token, keys, options) {
      batches.push(keys.map((k) => k.activityId.slice(0, 8)));
      return source.loadMany(token, keys, options);
    },
  };
  const ids = ['aaaaaaaa', 'bbbbbbbb', 'cccccccc'].map((prefix) => {
    const activityId = `${prefix}-0000-4000-8000-000000000000`;
    simulator.createActivity({ taxableEntityId: ENTITY, activityId, status: 'QUEUED', isAuto: false });
    return activityId;
  });
  return { simulator, recorded, batches, ids };
}

const key = (id: string): ActivityKey => activityKey(ENTITY, id);

describe('createStatusLoader', () => {
  it('hands the distinct keys of one tick to the source as one batch, in first-asked order', async () => {
    const { simulator, recorded, batches, ids } = await setup();
    const loader = createStatusLoader(recorded, TOKEN);
    const [a, b, c] = ids.map(key) as [ActivityKey, ActivityKey, ActivityKey];
    const results = await Promise.all([loader.load(b), loader.load(a), loader.loadMany([a, c, b])]);
    expect(batches).toEqual([['bbbbbbbb', 'aaaaaaaa', 'cccccccc']]);
    expect(results[0].activityId).toBe(b.activityId);
    expect(simulator.stats.requests).toBe(3);
  });

  it('dedupes equal keys that are different objects (and different spellings), by key id', async () => {
    const { recorded, batches, ids } = await setup();
    const loader = createStatusLoader(recorded, TOKEN);
    const id = ids[0]!;
    await Promise.all([
      loader.load(key(id)),
      loader.load(key(id)),
      loader.load(activityKey(ENTITY.toUpperCase(), id.toUpperCase())),
    ]);
    expect(batches).toEqual([['aaaaaaaa']]);
  });

  it('starts a new batch in a later tick, and serves keys already loaded from its own cache', async () => {
    const { recorded, batches, ids } = await setup();
    const loader = createStatusLoader(recorded, TOKEN);
    await loader.load(key(ids[0]!));
    await Promise.all([loader.load(key(ids[0]!)), loader.load(key(ids[1]!)), loader.load(key(ids[2]!))]);
    expect(batches).toEqual([['aaaaaaaa'], ['bbbbbbbb', 'cccccccc']]);
  });

  it('fails only the key that failed', async () => {
    const { recorded, ids } = await setup();
    const loader = createStatusLoader(recorded, TOKEN);
    const results = await loader.loadMany([key(ids[0]!), key('99999999-9999-4999-8999-999999999999')]);
    expect(results[0]).toMatchObject({ rawStatus: 'QUEUED' });
    expect(results[1]).toMatchObject({ code: 'NOT_FOUND' });
  });
});
