import { setMaxListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createRedisEventTarget } from '../../src/cluster/redis-event-target.js';
import type { RedisLink } from '../../src/cluster/redis-link.js';
import { activityKey, snapshotEvent, type StatusEvent } from '../../src/domain/index.js';
import { createLogger } from '../../src/logger.js';
import { createAppPubSub, STATUS_TOPIC } from '../../src/pubsub.js';
import { inProcessWorld, redisWorld, startRedisBacking, type SeamWorld } from './seam-rows.js';

const PREFIX = 'gw:status:';
const WAIT = { timeout: 5000, interval: 10 };
/** Outside PREFIX: the event targets ignore it. */
const PROBE_CHANNEL = 'seam:probe';
let probeCount = 0;

interface EventTargetWorld extends SeamWorld<EventTarget> {
  /**
   * Resolves once `count` instances' subscriptions to `topic` are in place. Redis:
   * an event published before an instance's SUBSCRIBE lands never reaches it (pub/sub
   * keeps nothing), so the suite waits for Redis to count them. In-process: a listener
   * is in place when added.
   */
  subscribed(topic: string, count: number): Promise<void>;
  /**
   * Resolves once everything dispatched so far on any instance has been delivered
   * to every instance's listeners (not while the backing is down). Redis: see the
   * row. In-process: dispatchEvent delivers before it returns.
   */
  delivered(): Promise<void>;
}

interface EventTargetRow {
  name: string;
  world(): Promise<EventTargetWorld>;
}

/**
 * In-process: the EventTarget createAppPubSub makes without one (no listener limit),
 * shared by everything in the process. Redis: one target per instance, each on its
 * own link, as src/cluster/index.ts builds them.
 */
const rows: EventTargetRow[] = [
  {
    name: 'in-process',
    world: () =>
      Promise.resolve({
        ...inProcessWorld(() => {
          const target = new EventTarget();
          setMaxListeners(0, target);
          return target;
        }),
        subscribed: () => Promise.resolve(),
        delivered: () => Promise.resolve(),
      }),
  },
  {
    name: 'Redis',
    world: async () => {
      const backing = await startRedisBacking();
      const logger = createLogger('silent');
      /** Per instance's link: the probes its subscriber connection has received. */
      const probesSeen = new Map<RedisLink, string[]>();
      const subscribers = async (topic: string) => {
        const [, count] = (await backing.admin.pubsub('NUMSUB', PREFIX + topic)) as [string, number];
        return Number(count);
      };
      return {
        ...redisWorld(backing, async (link) => {
          const seen: string[] = [];
          probesSeen.set(link, seen);
          link.subscriber.on('message', (channel: string, message: string) => {
            if (channel === PROBE_CHANNEL) seen.push(message);
          });
          await link.subscriber.subscribe(PROBE_CHANNEL);
          return createRedisEventTarget({ link, prefix: PREFIX, logger, retryMs: 20 });
        }),
        subscribed: (topic, count) => expect.poll(() => subscribers(topic), { timeout: 10_000 }).toBe(count),
        async delivered() {
          // Each instance publishes a probe on the connection its events went out on: Redis
          // hands every subscriber connection those events before the probe, in order.
          const probes = [...probesSeen.keys()].map((link) => ({ link, probe: `probe-${(probeCount += 1)}` }));
          for (const { link, probe } of probes) await link.commands.publish(PROBE_CHANNEL, probe);
          await expect
            .poll(
              () => [...probesSeen.values()].every((seen) => probes.every(({ probe }) => seen.includes(probe))),
              WAIT,
            )
            .toBe(true);
        },
      };
    },
  },
];

/** Listens to `topic` on `target`; `received` is what arrived, `listener` removes it. */
function listen(target: EventTarget, topic: string) {
  const received: unknown[] = [];
  const listener = (event: Event) => void received.push((event as CustomEvent).detail);
  target.addEventListener(topic, listener);
  return { received, listener };
}

const dispatch = (target: EventTarget, topic: string, detail: unknown) =>
  target.dispatchEvent(new CustomEvent(topic, { detail }));

/** A status event as the watcher publishes it: plain JSON, so it crosses Redis unchanged. */
function statusEvent(n: number): StatusEvent {
  return snapshotEvent({
    ...activityKey('11111111-2222-4333-8444-555555555555', `aaaaaaaa-0000-4000-8000-00000000000${n}`),
    rawStatus: n % 2 ? 'QUEUED' : 'PROCESSING',
    errorMessage: null,
    queuedCount: n,
    fetchedAt: new Date(Date.UTC(2024, 0, 2, 3, 4, n)).toISOString(),
  });
}

describe.each(rows)('PubSub event target contract: $name', ({ world }) => {
  it("delivers a topic's events, in order and unchanged, to its listener and to no other topic's", async () => {
    const w = await world();
    const [target] = await w.instances(1);
    const a = listen(target, 'key-a');
    const b = listen(target, 'key-b');
    await w.subscribed('key-a', 1);
    await w.subscribed('key-b', 1);
    const [e1, e2, e3] = [statusEvent(1), statusEvent(2), statusEvent(3)];
    dispatch(target, 'key-b', e1);
    dispatch(target, 'key-a', e2);
    dispatch(target, 'key-a', e3);
    await w.delivered();
    expect(a.received).toEqual([e2, e3]);
    expect(b.received).toEqual([e1]);
  });

  it('removeEventListener stops delivery to that listener only; the last one removed gets nothing more', async () => {
    const w = await world();
    const [target] = await w.instances(1);
    const gone = listen(target, 'key-a');
    const kept = listen(target, 'key-a');
    await w.subscribed('key-a', 1);
    const [e1, e2, e3] = [statusEvent(1), statusEvent(2), statusEvent(3)];
    dispatch(target, 'key-a', e1);
    await w.delivered();
    expect(gone.received).toEqual([e1]);
    expect(kept.received).toEqual([e1]);

    target.removeEventListener('key-a', gone.listener);
    dispatch(target, 'key-a', e2);
    await w.delivered();
    expect(gone.received).toEqual([e1]);
    expect(kept.received).toEqual([e1, e2]);

    target.removeEventListener('key-a', kept.listener);
    dispatch(target, 'key-a', e3);
    await w.delivered();
    expect(gone.received).toEqual([e1]);
    expect(kept.received).toEqual([e1, e2]);
  });

  it('gives each of many listeners of a topic one copy of every event', async () => {
    const w = await world();
    const [target] = await w.instances(1);
    const listeners = Array.from({ length: 5 }, () => listen(target, 'key-a'));
    await w.subscribed('key-a', 1);
    const [e1, e2] = [statusEvent(1), statusEvent(2)];
    dispatch(target, 'key-a', e1);
    dispatch(target, 'key-a', e2);
    await w.delivered();
    for (const { received } of listeners) expect(received).toEqual([e1, e2]);
  });

  it('delivers an event dispatched on one instance to every instance, the dispatching one included, once each', async () => {
    const w = await world();
    const [one, two] = await w.instances(2);
    const onOne = listen(one, 'key-a');
    const onTwo = listen(two, 'key-a');
    // Redis: each instance subscribes on its own; in-process: the one target of the process.
    await w.subscribed('key-a', one === two ? 1 : 2);
    const [e1, e2, e3, e4] = [statusEvent(1), statusEvent(2), statusEvent(3), statusEvent(4)];
    dispatch(one, 'key-a', e1);
    dispatch(one, 'key-a', e2);
    await w.delivered();
    expect(onOne.received).toEqual([e1, e2]);
    expect(onTwo.received).toEqual([e1, e2]);

    dispatch(two, 'key-a', e3);
    dispatch(two, 'key-a', e4);
    await w.delivered();
    expect(onOne.received).toEqual([e1, e2, e3, e4]);
    expect(onTwo.received).toEqual([e1, e2, e3, e4]);
  });

  it("carries the app PubSub: a subscriber of one watched key gets that key's events from any instance, not another key's", async () => {
    const w = await world();
    const [one, two] = await w.instances(2);
    const subscriber = createAppPubSub(one);
    const publisher = createAppPubSub(two);
    const events = subscriber.subscribe(STATUS_TOPIC, 'key-1')[Symbol.asyncIterator]();
    // The subscription's listener is added when it is first read.
    const first = events.next();
    await w.subscribed(`${STATUS_TOPIC}:key-1`, 1);
    const [e1, e2, e3, e4] = [statusEvent(1), statusEvent(2), statusEvent(3), statusEvent(4)];
    publisher.publish(STATUS_TOPIC, 'key-2', e1);
    publisher.publish(STATUS_TOPIC, 'key-1', e2);
    publisher.publish(STATUS_TOPIC, 'key-1', e3);
    expect((await first).value).toEqual(e2);
    expect((await events.next()).value).toEqual(e3);
    // Published after everything else: the next read is it, not a copy of an earlier event nor key-2's.
    await w.delivered();
    subscriber.publish(STATUS_TOPIC, 'key-1', e4);
    expect((await events.next()).value).toEqual(e4);
    await events.return?.();
  });

  it("still delivers to this instance's listeners while its backing is down", async () => {
    const w = await world();
    const [target] = await w.instances(1);
    const a = listen(target, 'key-a');
    await w.subscribed('key-a', 1);
    await w.outage();
    const [e1, e2] = [statusEvent(1), statusEvent(2)];
    dispatch(target, 'key-a', e1);
    dispatch(target, 'key-a', e2);
    await expect.poll(() => a.received.length, WAIT).toBe(2);
    expect(a.received).toEqual([e1, e2]);
  });
});
