import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { UploadActivityDocument, UploadActivityStatusChangedDocument } from '../../schema/generated/graphql.js';
import { createSimulator, type Simulator } from '../../src/simulator/server.js';
import { redisClient, startRedis, type TestRedis } from '../helpers/redis.js';
import { ENTITY, TOKEN, startStack, type Stack } from '../helpers/stack.js';
import { connect, record, type Recorded } from '../helpers/ws-client.js';

type Events = Recorded<{
  uploadActivityStatusChanged: { status: string; queuedCount: number | null; isStale: boolean };
}>;
const seen = (sub: Events) =>
  sub.events.map((e) =>
    e.errors
      ? e.errors[0]!.extensions!.code!
      : `${e.data!.uploadActivityStatusChanged.status}:${e.data!.uploadActivityStatusChanged.queuedCount}`,
  );

async function upstream(): Promise<Simulator> {
  const simulator = createSimulator({ stepMs: 0 });
  await simulator.start();
  onTestFinished(() => simulator.stop());
  return simulator;
}

/** Gateway instances sharing one Redis and one upstream, once each has its Redis connections up (when Redis runs). */
function instances(redis: TestRedis, simulator: Simulator, env: Record<string, string> = {}) {
  return async (count: number, options: { awaitRedis?: boolean } = {}) => {
    const stacks = await Promise.all(
      Array.from({ length: count }, () =>
        startStack({
          REDIS_URL: redis.url,
          CLEARTAX_BASE_URL: simulator.url,
          POLL_INTERVAL_MS: '100',
          POLL_MAX_INTERVAL_MS: '100',
          ...env,
        }),
      ),
    );
    if (options.awaitRedis ?? true) {
      for (const stack of stacks)
        await expect.poll(async () => (await readyz(stack)).checks.redis, { timeout: 10_000 }).toBe('ok');
    }
    return stacks;
  };
}

const watch = (stack: Pick<Stack, 'app'>, activityId: string) =>
  record(connect(stack.app.url), UploadActivityStatusChangedDocument, {
    taxableEntityId: ENTITY,
    activityId,
  }) as Events;
const requestsFor = (simulator: Simulator, activityId: string) =>
  simulator.stats.byActivity.get(`${ENTITY}:${activityId}`) ?? 0;
const readyz = async (stack: Pick<Stack, 'app'>) =>
  (await fetch(stack.app.url.replace(/\/graphql$/, '/readyz'))).json() as Promise<{ checks: { redis: string } }>;
const redisUp = async (stack: Pick<Stack, 'app'>) =>
  /^gateway_redis_up (\d)$/m.exec(await (await fetch(stack.app.metricsUrl)).text())?.[1];
const waitFor = (ms: number) => {
  const until = Date.now() + ms;
  return expect.poll(() => Date.now(), { timeout: ms + 5000, interval: 20 }).toBeGreaterThanOrEqual(until);
};

describe('multi-instance mode on Redis', () => {
  it('polls each activity once per interval across 3 instances, and every subscriber gets the same ordered sequence', async () => {
    const [redis, simulator] = await Promise.all([startRedis(), upstream()]);
    const gateways = await instances(redis, simulator)(3);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 3, isAuto: false });
    const subs = gateways.flatMap((gateway) => Array.from({ length: 5 }, () => watch(gateway, a.activityId)));
    await expect.poll(() => subs.every((s) => s.events.length === 1), { timeout: 10_000 }).toBe(true);
    const before = requestsFor(simulator, a.activityId);
    await waitFor(1500);
    const polls = requestsFor(simulator, a.activityId) - before;
    // One holder polls every 100 ms: at most ~15 in 1.5 s (three pollers would make ~45).
    expect(polls).toBeGreaterThanOrEqual(5);
    expect(polls).toBeLessThanOrEqual(17);
    for (const queuedCount of [2, 1]) {
      simulator.setState(ENTITY, a.activityId, { queuedCount });
      await expect.poll(() => subs.every((s) => s.events.length === 4 - queuedCount), { timeout: 10_000 }).toBe(true);
    }
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSED', queuedCount: 0 });
    await Promise.all(subs.map((s) => s.done));
    for (const sub of subs) expect(seen(sub)).toEqual(['QUEUED:3', 'QUEUED:2', 'QUEUED:1', 'PROCESSED:0']);
  }, 40_000);

  it('serves a late subscriber on another instance from the shared snapshot, without an upstream read', async () => {
    const [redis, simulator] = await Promise.all([startRedis(), upstream()]);
    const [first, second] = await instances(redis, simulator, {
      POLL_INTERVAL_MS: '2000',
      POLL_MAX_INTERVAL_MS: '2000',
    })(2);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'PROCESSING', isAuto: false });
    const early = watch(first!, a.activityId);
    await expect.poll(() => early.events.length).toBe(1);
    const late = watch(second!, a.activityId);
    await expect.poll(() => late.events.length).toBe(1);
    expect(requestsFor(simulator, a.activityId)).toBe(1);
    expect(late.events[0]!.data!.uploadActivityStatusChanged).toEqual(
      early.events[0]!.data!.uploadActivityStatusChanged,
    );
  }, 20_000);

  it('shares terminal snapshots: a query on another instance makes no upstream call', async () => {
    const [redis, simulator] = await Promise.all([startRedis(), upstream()]);
    const [first, second] = await instances(redis, simulator)(2);
    const a = simulator.createActivity({
      taxableEntityId: ENTITY,
      status: 'ABORTED',
      errorMessage: 'bad row',
      isAuto: false,
    });
    const variables = { taxableEntityId: ENTITY, activityId: a.activityId };
    expect((await first!.query(UploadActivityDocument, variables)).data!.uploadActivity!.status).toBe('ABORTED');
    await expect
      .poll(async () => (await second!.query(UploadActivityDocument, variables)).data!.uploadActivity!.errorMessage)
      .toBe('bad row');
    expect(requestsFor(simulator, a.activityId)).toBe(1);
  }, 20_000);

  it('keeps events coming, none missed or repeated, when the lease holder is killed', async () => {
    const [redis, simulator] = await Promise.all([startRedis(), upstream()]);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 5, isAuto: false });
    // The holder runs in its own process, so it can die without releasing anything.
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const holder = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        PORT: '0',
        LOG_LEVEL: 'warn',
        AUTH_MODE: 'passthrough',
        REDIS_URL: redis.url,
        CLEARTAX_BASE_URL: simulator.url,
        POLL_INTERVAL_MS: '100',
        POLL_MAX_INTERVAL_MS: '100',
        WEB_APP_ENABLED: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(() => void (holder.exitCode === null && holder.kill('SIGKILL')));
    let out = '';
    holder.stdout!.on('data', (chunk) => (out += String(chunk)));
    await expect.poll(() => /GraphQL:\s+(\S+)/.exec(out)?.[1], { timeout: 15_000 }).toBeDefined();
    const holderUrl = /GraphQL:\s+(\S+)/.exec(out)![1]!;
    const onHolder = record(
      connect(holderUrl, { connectionParams: { authToken: TOKEN } }),
      UploadActivityStatusChangedDocument,
      { taxableEntityId: ENTITY, activityId: a.activityId },
    ) as Events;
    await expect.poll(() => onHolder.events.length, { timeout: 10_000 }).toBe(1);
    // Only the holder runs yet: once a lease exists in Redis, it is the holder's.
    const inspector = redisClient(redis.url);
    await expect.poll(async () => (await inspector.keys('gw:lease:*')).length, { timeout: 10_000 }).toBe(1);
    const [survivor] = await instances(redis, simulator)(1);
    const sub = watch(survivor!, a.activityId);
    await expect.poll(() => sub.events.length, { timeout: 10_000 }).toBe(1);
    simulator.setState(ENTITY, a.activityId, { queuedCount: 4 });
    await expect.poll(() => sub.events.length, { timeout: 10_000 }).toBe(2);

    holder.kill('SIGKILL');
    await once(holder, 'exit');
    const before = requestsFor(simulator, a.activityId);
    simulator.setState(ENTITY, a.activityId, { queuedCount: 3 });
    // The survivor takes the lease within its TTL (5 s) and sees the state upstream shows.
    await expect.poll(() => sub.events.length, { timeout: 15_000 }).toBe(3);
    expect(requestsFor(simulator, a.activityId)).toBeGreaterThan(before);
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSED', queuedCount: 0 });
    await sub.done;
    expect(seen(sub)).toEqual(['QUEUED:5', 'QUEUED:4', 'QUEUED:3', 'PROCESSED:0']);
  }, 45_000);

  it('keeps serving through a 5 s Redis outage, reports it, and misses or repeats nothing', async () => {
    const [redis, simulator] = await Promise.all([startRedis(), upstream()]);
    const gateways = await instances(redis, simulator)(2);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 9, isAuto: false });
    const subs = gateways.map((gateway) => watch(gateway, a.activityId));
    await expect.poll(() => subs.every((s) => s.events.length === 1), { timeout: 10_000 }).toBe(true);
    for (const gateway of gateways)
      await expect.poll(async () => (await readyz(gateway)).checks.redis, { timeout: 10_000 }).toBe('ok');
    expect(await redisUp(gateways[0]!)).toBe('1');

    await redis.stop();
    const downAt = Date.now();
    for (const gateway of gateways) {
      await expect.poll(async () => (await readyz(gateway)).checks.redis, { timeout: 10_000 }).toBe('down');
      expect(await redisUp(gateway)).toBe('0');
      expect((await fetch(gateway.app.url.replace(/\/graphql$/, '/readyz'))).status).toBe(200);
    }
    for (const queuedCount of [8, 7]) {
      simulator.setState(ENTITY, a.activityId, { queuedCount });
      await expect.poll(() => subs.every((s) => s.events.length === 10 - queuedCount), { timeout: 10_000 }).toBe(true);
    }
    // Queries keep working meanwhile.
    expect(
      (await gateways[1]!.query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: a.activityId })).data!
        .uploadActivity!.queuedCount,
    ).toBe(7);
    await waitFor(5000 - (Date.now() - downAt));

    await redis.start();
    for (const gateway of gateways) {
      await expect.poll(async () => (await readyz(gateway)).checks.redis, { timeout: 10_000 }).toBe('ok');
      expect(await redisUp(gateway)).toBe('1');
    }
    simulator.setState(ENTITY, a.activityId, { queuedCount: 6 });
    await expect.poll(() => subs.every((s) => s.events.length === 4), { timeout: 15_000 }).toBe(true);
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSED', queuedCount: 0 });
    await Promise.all(subs.map((s) => s.done));
    for (const sub of subs) expect(seen(sub)).toEqual(['QUEUED:9', 'QUEUED:8', 'QUEUED:7', 'QUEUED:6', 'PROCESSED:0']);
  }, 60_000);

  it('starts without Redis, serves alone, and joins the cluster once Redis appears', async () => {
    const [redis, simulator] = await Promise.all([startRedis({ isStarted: false }), upstream()]);
    const [gateway] = await instances(redis, simulator)(1, { awaitRedis: false });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'UPLOADED', isAuto: false });
    expect(
      (await gateway!.query(UploadActivityDocument, { taxableEntityId: ENTITY, activityId: a.activityId })).data!
        .uploadActivity!.status,
    ).toBe('UPLOADED');
    const sub = watch(gateway!, a.activityId);
    await expect.poll(() => sub.events.length, { timeout: 10_000 }).toBe(1);
    expect(await readyz(gateway!)).toMatchObject({ checks: { redis: 'down' } });
    await redis.start();
    await expect.poll(async () => (await readyz(gateway!)).checks.redis, { timeout: 10_000 }).toBe('ok');
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSED' });
    await sub.done;
    expect(seen(sub)).toEqual(['UPLOADED:null', 'PROCESSED:null'].map((s) => s.replace('null', '0')));
  }, 30_000);

  it('counts a hung Redis (SIGSTOP) as down within 5 s, keeps queries and new subscriptions fast meanwhile, and is up again after SIGCONT', async () => {
    const [redis, simulator] = await Promise.all([startRedis(), upstream()]);
    const gateways = await instances(redis, simulator)(2);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 9, isAuto: false });
    const variables = { taxableEntityId: ENTITY, activityId: a.activityId };
    const early = watch(gateways[0]!, a.activityId);
    await expect.poll(() => early.events.length, { timeout: 10_000 }).toBe(1);

    redis.pause();
    onTestFinished(() => redis.resume());
    const pausedAt = Date.now();
    for (const gateway of gateways) {
      await expect.poll(async () => (await readyz(gateway)).checks.redis, { timeout: 5000, interval: 50 }).toBe('down');
      expect(await redisUp(gateway)).toBe('0');
      expect((await fetch(gateway.app.url.replace(/\/graphql$/, '/readyz'))).status).toBe(200);
    }
    const downAfterMs = Date.now() - pausedAt;
    expect(downAfterMs).toBeLessThan(5000);
    console.info(`hung redis judged down on both instances after ${downAfterMs} ms`);

    // Judged down: nothing on the request path waits for Redis's deadline any more.
    const took: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const startedAt = Date.now();
      const result = await gateways[i % 2]!.query(UploadActivityDocument, variables);
      took.push(Date.now() - startedAt);
      expect(result.data!.uploadActivity!.queuedCount).toBe(9);
    }
    const subscribedAt = Date.now();
    const late = watch(gateways[1]!, a.activityId);
    await expect.poll(() => late.events.length, { timeout: 5000, interval: 10 }).toBe(1);
    const firstEventMs = Date.now() - subscribedAt;
    console.info(`while hung: queries took ${took.join(', ')} ms; a new subscription's first event ${firstEventMs} ms`);
    for (const ms of took) expect(ms).toBeLessThan(1500);
    // Loose, but below one command timeout (1 s): the median query does not wait on Redis at all.
    expect([...took].sort((x, y) => x - y)[took.length / 2]).toBeLessThan(500);
    expect(firstEventMs).toBeLessThan(1500);
    simulator.setState(ENTITY, a.activityId, { queuedCount: 8 });
    await expect.poll(() => [early.events.length, late.events.length], { timeout: 5000 }).toEqual([2, 2]);

    redis.resume();
    for (const gateway of gateways) {
      await expect.poll(async () => (await readyz(gateway)).checks.redis, { timeout: 5000, interval: 50 }).toBe('ok');
      expect(await redisUp(gateway)).toBe('1');
    }
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSED', queuedCount: 0 });
    await Promise.all([early.done, late.done]);
    expect(seen(early)).toEqual(['QUEUED:9', 'QUEUED:8', 'PROCESSED:0']);
    expect(seen(late)).toEqual(['QUEUED:9', 'QUEUED:8', 'PROCESSED:0']);
  }, 40_000);

  it('never repeats or reorders an event when a hung Redis comes back and executes the publishes that had timed out', async () => {
    const [redis, simulator] = await Promise.all([startRedis(), upstream()]);
    const gateways = await instances(redis, simulator)(2);
    const a = simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 99, isAuto: false });
    const subs = gateways.flatMap((gateway) => Array.from({ length: 3 }, () => watch(gateway, a.activityId)));
    await expect.poll(() => subs.every((s) => s.events.length === 1), { timeout: 10_000 }).toBe(true);
    const inspector = redisClient(redis.url);
    await expect.poll(async () => (await inspector.keys('gw:lease:*')).length, { timeout: 10_000 }).toBe(1);
    // Sees what Redis relays on the status channels: the late publish, once Redis runs again.
    const relayed: number[] = [];
    const listener = redisClient(redis.url);
    listener.on('pmessage', (_pattern: string, _channel: string, message: string) => {
      const event = JSON.parse(message) as { snapshot?: { queuedCount: number } };
      if (event.snapshot) relayed.push(event.snapshot.queuedCount);
    });
    await listener.psubscribe('gw:status:*');

    // The holder's next read is held upstream, its lease already claimed: Redis hangs while it is in flight,
    // and the state it answers (96) is published to the hung Redis, which times out and is delivered locally.
    const release = simulator.hold();
    const before = requestsFor(simulator, a.activityId);
    await expect
      .poll(() => requestsFor(simulator, a.activityId), { timeout: 5000, interval: 5 })
      .toBeGreaterThan(before);
    simulator.setState(ENTITY, a.activityId, { queuedCount: 96 });
    redis.pause();
    onTestFinished(() => redis.resume());
    release();
    await expect.poll(() => subs.every((s) => s.events.length === 2), { timeout: 10_000 }).toBe(true);
    for (const gateway of gateways)
      await expect.poll(async () => (await readyz(gateway)).checks.redis, { timeout: 5000 }).toBe('down');
    // Each instance polls on its own meanwhile.
    for (const queuedCount of [93, 91, 90]) {
      simulator.setState(ENTITY, a.activityId, { queuedCount });
      await expect
        .poll(() => subs.every((s) => seen(s).at(-1) === `QUEUED:${queuedCount}`), { timeout: 10_000 })
        .toBe(true);
    }

    redis.resume();
    // Redis executes the publish that had timed out: every instance receives the stale 96 now.
    await expect.poll(() => relayed, { timeout: 10_000 }).toContain(96);
    for (const gateway of gateways)
      await expect.poll(async () => (await readyz(gateway)).checks.redis, { timeout: 10_000 }).toBe('ok');
    simulator.setState(ENTITY, a.activityId, { queuedCount: 89 });
    await expect.poll(() => subs.every((s) => seen(s).at(-1) === 'QUEUED:89'), { timeout: 10_000 }).toBe(true);
    simulator.setState(ENTITY, a.activityId, { status: 'PROCESSED', queuedCount: 0 });
    await Promise.all(subs.map((s) => s.done));
    for (const sub of subs)
      expect(seen(sub)).toEqual([
        'QUEUED:99',
        'QUEUED:96',
        'QUEUED:93',
        'QUEUED:91',
        'QUEUED:90',
        'QUEUED:89',
        'PROCESSED:0',
      ]);
  }, 60_000);
});
