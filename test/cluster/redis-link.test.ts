import { describe, expect, it, onTestFinished } from 'vitest';
import { createRedisLink, type RedisLinkOptions } from '../../src/cluster/redis-link.js';
import { createLogger } from '../../src/logger.js';
import { redisClient, startRedis } from '../helpers/redis.js';

interface Line {
  level: number;
  msg: string;
  redis?: string;
  reason?: string;
  downForMs?: number;
}
const WARN = 40;
const INFO = 30;

/** A link to `url` whose logger writes into a list (raw lines, to look for secrets, and parsed). */
function linkTo(url: string, options: Partial<RedisLinkOptions> = {}) {
  const raw: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void raw.push(line) });
  const link = createRedisLink({ url, logger, reconnectMs: 20, ...options });
  onTestFinished(() => link.stop());
  // Every failed attempt, counted on the real connections (the link logs them throttled).
  const failures = { commands: 0, subscriber: 0 };
  link.commands.on('error', () => void (failures.commands += 1));
  link.subscriber.on('error', () => void (failures.subscriber += 1));
  const lines = () => raw.map((line) => JSON.parse(line) as Line);
  const at = (level: number) => lines().filter((line) => line.level === level);
  return { link, raw, lines, warns: () => at(WARN), infos: () => at(INFO), failures };
}

describe('Redis link logging', () => {
  it('warns once, with host:port and ECONNREFUSED, while Redis cannot be reached; says when it is back', async () => {
    const redis = await startRedis({ isStarted: false });
    const { link, warns, infos, failures } = linkTo(redis.url);
    // Many failed attempts on both connections, well within a minute: one line.
    await expect
      .poll(() => Math.min(failures.commands, failures.subscriber), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(10);
    expect(warns()).toEqual([
      expect.objectContaining({
        redis: `127.0.0.1:${redis.port}`,
        reason: 'ECONNREFUSED',
        msg: expect.stringMatching(/unreachable/),
      }),
    ]);
    expect(infos()).toEqual([]);

    await redis.start();
    await expect.poll(() => link.isUp, { timeout: 10_000 }).toBe(true);
    expect(infos()).toEqual([
      expect.objectContaining({
        redis: `127.0.0.1:${redis.port}`,
        msg: expect.stringMatching(/redis is up/),
        downForMs: expect.any(Number),
      }),
    ]);
    expect(warns()).toHaveLength(1);
  });

  it('repeats the warning at most once per interval while Redis stays down', async () => {
    const redis = await startRedis({ isStarted: false });
    const startedAt = Date.now();
    const { warns, failures } = linkTo(redis.url, { downLogIntervalMs: 300 });
    await expect.poll(() => warns().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const elapsed = Date.now() - startedAt;
    const lines = warns();
    // One line per 300 ms at most, however many attempts failed meanwhile (one per ~20 ms per connection).
    expect(lines.length).toBeLessThanOrEqual(1 + Math.floor(elapsed / 300));
    expect(failures.commands + failures.subscriber).toBeGreaterThan(lines.length * 4);
    expect(lines[0]!.msg).toMatch(/unreachable/);
    for (const line of lines.slice(1))
      expect(line).toMatchObject({
        redis: `127.0.0.1:${redis.port}`,
        reason: 'ECONNREFUSED',
        msg: expect.stringMatching(/still unreachable/),
        downForMs: expect.any(Number),
      });
  });

  it('warns with WRONGPASS on a wrong password, never showing the password, and says when it is accepted', async () => {
    const redis = await startRedis({ args: ['--requirepass', 'server-secret-4711'] });
    const admin = redisClient(redis.url, { password: 'server-secret-4711' });
    const { link, raw, warns, infos, failures } = linkTo(`redis://:client-secret-0815@127.0.0.1:${redis.port}`);
    await expect
      .poll(() => Math.min(failures.commands, failures.subscriber), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(10);
    expect(link.isUp).toBe(false);
    expect(warns()).toEqual([
      expect.objectContaining({
        redis: `127.0.0.1:${redis.port}`,
        reason: 'WRONGPASS',
        msg: expect.stringMatching(/refusing our credentials/),
      }),
    ]);

    // The operator fixes it on the Redis side: the link's next attempt gets in.
    await admin.config('SET', 'requirepass', 'client-secret-0815');
    await expect.poll(() => link.isUp, { timeout: 10_000 }).toBe(true);
    expect(infos()).toEqual([
      expect.objectContaining({ redis: `127.0.0.1:${redis.port}`, msg: expect.stringMatching(/redis is up/) }),
    ]);
    expect(warns()).toHaveLength(1);
    const text = raw.join('');
    expect(text).not.toContain('client-secret-0815');
    expect(text).not.toContain('server-secret-4711');
    expect(text).not.toContain('redis://');
  });

  it('warns with NOAUTH when Redis wants a password and the URL has none', async () => {
    const redis = await startRedis({ args: ['--requirepass', 'server-secret-4711'] });
    const { warns, raw, failures } = linkTo(redis.url);
    await expect
      .poll(() => Math.min(failures.commands, failures.subscriber), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(5);
    expect(warns()).toEqual([expect.objectContaining({ redis: `127.0.0.1:${redis.port}`, reason: 'NOAUTH' })]);
    expect(raw.join('')).not.toContain('server-secret-4711');
  });

  it('warns once when a running Redis goes away, and once more at info when it is back', async () => {
    const redis = await startRedis();
    const { link, warns, infos, failures } = linkTo(redis.url);
    await expect.poll(() => link.isUp, { timeout: 10_000 }).toBe(true);
    expect(infos()).toHaveLength(1);
    expect(warns()).toEqual([]);

    await redis.stop();
    await expect
      .poll(() => Math.min(failures.commands, failures.subscriber), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(10);
    expect(link.isUp).toBe(false);
    expect(warns()).toEqual([
      expect.objectContaining({
        redis: `127.0.0.1:${redis.port}`,
        msg: expect.stringMatching(/redis is down/),
        reason: expect.any(String),
      }),
    ]);

    await redis.start();
    await expect.poll(() => infos().length, { timeout: 10_000 }).toBe(2);
    expect(infos()[1]).toMatchObject({
      redis: `127.0.0.1:${redis.port}`,
      msg: expect.stringMatching(/redis is up/),
      downForMs: expect.any(Number),
    });
    expect(warns()).toHaveLength(1);
  });

  it('counts a hung Redis (SIGSTOP: connections open, ioredis ready) as down within 5 s, says so, and up again when it answers', async () => {
    const redis = await startRedis();
    const { link, warns, infos } = linkTo(redis.url);
    await expect.poll(() => link.isUp, { timeout: 10_000 }).toBe(true);
    const changes: boolean[] = [];
    link.onChange((isUp) => changes.push(isUp));

    redis.pause();
    onTestFinished(() => redis.resume());
    const pausedAt = Date.now();
    await expect.poll(() => link.isUp, { timeout: 5000, interval: 20 }).toBe(false);
    const downAfterMs = Date.now() - pausedAt;
    expect(downAfterMs).toBeLessThan(5000);
    // Nothing closed: only the PING deadline can tell.
    expect([link.commands.status, link.subscriber.status]).toEqual(['ready', 'ready']);
    expect(warns()).toEqual([
      expect.objectContaining({
        redis: `127.0.0.1:${redis.port}`,
        msg: expect.stringMatching(/redis is down/),
        reason: expect.stringMatching(/PING|answer/),
      }),
    ]);
    expect(changes).toEqual([false]);
    // A command meanwhile fails within its deadline, not at SIGCONT.
    const startedAt = Date.now();
    await expect(link.commands.get('k')).rejects.toThrow(/timed out/);
    expect(Date.now() - startedAt).toBeLessThan(3000);

    redis.resume();
    await expect.poll(() => link.isUp, { timeout: 5000, interval: 20 }).toBe(true);
    expect(changes).toEqual([false, true]);
    expect(infos().at(-1)).toMatchObject({ msg: expect.stringMatching(/redis is up/), downForMs: expect.any(Number) });
    expect(warns()).toHaveLength(1);
  }, 20_000);
});
