import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { onTestFinished } from 'vitest';
import { REDIS_SERVER } from './apt.js';

/** One reservation file per port in use by a test Redis, holding its owner's pid: shared by every vitest run on the machine. */
const RESERVATIONS = join(tmpdir(), 'upload-status-gateway-test-redis-ports');

/** Ports below the kernel's ephemeral range: no socket bound to port 0 (a gateway, a simulator, an outgoing connection) is ever given one. */
function portRange(): { low: number; high: number } {
  let ephemeralLow = 32768;
  try {
    ephemeralLow =
      Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralLow;
  } catch {
    // Not Linux: keep the usual default.
  }
  return { low: Math.min(20_000, ephemeralLow - 4000), high: ephemeralLow };
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Whether nothing listens on 127.0.0.1:port right now. */
const canBind = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/**
 * Reserves a port for this test's Redis until the test ends: a random port of the
 * range whose reservation file this process creates first (`wx`: atomic), so
 * neither parallel vitest workers nor other vitest runs on the machine (other
 * people's, using this helper) pick it, even while the server is down (started
 * later, or restarted). A reservation whose owner died is taken over. A port some
 * other program holds is seen when binding, and skipped.
 */
async function reservePort(): Promise<{ port: number; release(): void }> {
  mkdirSync(RESERVATIONS, { recursive: true });
  const { low, high } = portRange();
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = low + Math.floor(Math.random() * (high - low));
    const file = join(RESERVATIONS, String(port));
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(file, 'utf8'));
      if (owner && !isAlive(owner)) rmSync(file, { force: true }); // free for a later attempt
      continue;
    }
    const release = () => rmSync(file, { force: true });
    if (await canBind(port)) return { port, release };
    release();
  }
  throw new Error(`no free port for a test Redis in ${low}-${high} after 200 attempts (see ${RESERVATIONS})`);
}

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Starts (again) on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Kills it at once (SIGKILL), as an outage would. */
  stop(): Promise<void>;
  /** Hangs it (SIGSTOP): connections stay open, nothing is answered, commands pile up. */
  pause(): void;
  /** Lets a paused server run again (SIGCONT): it executes what piled up, in order. */
  resume(): void;
}

class PortInUseError extends Error {}

/** Runs redis-server on `port` until it accepts connections; PortInUseError when the port is taken. */
async function spawnRedis(port: number, args: readonly string[]): Promise<ChildProcess> {
  const child = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start within 10 s:\n${out}`));
    }, 10_000);
    const read = (chunk: unknown) => {
      out += String(chunk);
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        out.includes('Address already in use')
          ? new PortInUseError(`port ${port} is in use`)
          : new Error(`redis-server exited with ${code}:\n${out}`),
      );
    });
  });
  return child;
}

/**
 * A throwaway redis-server on 127.0.0.1 (no persistence) on a port reserved for
 * this test, stopped with the test. `args` go to redis-server as they are (e.g.
 * `['--requirepass', 'secret']`). Its first start moves to another port if the
 * reserved one turns out to be taken (by a program that does not use this
 * helper); a restart (after `stop`, or with `isStarted: false`) keeps the port
 * clients know, and retries it for a few seconds.
 */
export async function startRedis(options: { isStarted?: boolean; args?: readonly string[] } = {}): Promise<TestRedis> {
  const args = options.args ?? [];
  let reservation = await reservePort();
  onTestFinished(() => reservation.release());
  /** Clients may know the port once startRedis has returned: from then on, it never changes. */
  let isPortKnown = false;
  let child: ChildProcess | undefined;
  const redis: TestRedis = {
    get url() {
      return `redis://127.0.0.1:${reservation.port}`;
    },
    get port() {
      return reservation.port;
    },
    async start() {
      const deadline = Date.now() + 5000;
      for (let attempt = 1; ; attempt += 1) {
        try {
          child = await spawnRedis(reservation.port, args);
          return;
        } catch (error) {
          if (!(error instanceof PortInUseError) || attempt >= 20 || Date.now() > deadline) throw error;
          if (isPortKnown) {
            await new Promise((resolve) => setTimeout(resolve, 100));
          } else {
            reservation.release();
            reservation = await reservePort();
          }
        }
      }
    },
    pause() {
      if (!child || child.exitCode !== null) throw new Error('redis-server is not running');
      child.kill('SIGSTOP');
    },
    resume() {
      if (child && child.exitCode === null) child.kill('SIGCONT');
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      running.kill('SIGKILL');
      await new Promise((resolve) => running.once('exit', resolve));
    },
  };
  // Registered after the reservation's release: runs before it (vitest runs these hooks last-in, first-out).
  onTestFinished(() => redis.stop());
  if (options.isStarted ?? true) await redis.start();
  isPortKnown = true;
  return redis;
}

/**
 * A plain client for a test to look into Redis or administer it (ACL, CONFIG),
 * closed with the test by `disconnect()`: synchronous, it cannot reject. A
 * `void client.quit()` could: if the server is killed (the test's Redis stops
 * right after) before QUIT's answer, its promise rejects with "Connection is
 * closed." and nobody listens, an unhandled rejection that fails the run.
 * Register it after `startRedis`, so it closes before that server stops.
 */
export function redisClient(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, ...options });
  client.on('error', () => undefined);
  onTestFinished(() => client.disconnect());
  return client;
}
