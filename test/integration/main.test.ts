import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { connect as connectSocket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { startMain } from '../helpers/main-process.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

const ENTITY = '11111111-2222-4333-8444-555555555555';

describe('npm start (src/main.ts)', () => {
  it('starts the simulator and the gateway, answers a seeded id, and exits 0 on SIGTERM', async () => {
    const { child, output } = startMain({});
    await expect.poll(output, { timeout: 15_000, interval: 50 }).toContain('Seeded activities');
    const url = /GraphQL:\s+(\S+)/.exec(output())![1]!;
    const [, entity, activity] = /\s([0-9a-f-]{36}) ([0-9a-f-]{36}) PROCESSED/.exec(output())!;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Cleartax-Auth-Token': 'demo' },
      body: JSON.stringify({
        query: `{ uploadActivity(taxableEntityId: "${entity}", activityId: "${activity}") { status rawStatus queuedCount isTerminal fetchedAt } }`,
      }),
    });
    const body = (await response.json()) as { data: { uploadActivity: Record<string, unknown> } };
    expect(body.data.uploadActivity).toMatchObject({
      status: 'PROCESSED',
      rawStatus: 'PROCESSED',
      queuedCount: 0,
      isTerminal: true,
    });
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('runs compiled: dist/server/main.js (built by the test set-up) answers under plain node, with source maps on', async () => {
    const child = spawn(process.execPath, ['--enable-source-maps', 'dist/server/main.js'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', PORT: '0', SIMULATOR_PORT: '0', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(() => void (child.exitCode === null && child.kill('SIGKILL')));
    let out = '';
    child.stdout.on('data', (chunk) => (out += String(chunk)));
    child.stderr.on('data', (chunk) => (out += String(chunk)));
    await expect.poll(() => out, { timeout: 15_000, interval: 50 }).toContain('Seeded activities');
    const url = /GraphQL:\s+(\S+)/.exec(out)![1]!;
    const [, entity, activity] = /\s([0-9a-f-]{36}) ([0-9a-f-]{36}) PROCESSED/.exec(out)!;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `{ uploadActivity(taxableEntityId: "${entity}", activityId: "${activity}") { status } }`,
      }),
    });
    expect(await response.json()).toEqual({ data: { uploadActivity: { status: 'PROCESSED' } } });
    expect((await fetch(url.replace(/\/graphql$/, '/'))).status).toBe(200);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('refuses to start on bad configuration with one line naming the variable', async () => {
    const { child, output } = startMain({ POLL_INTERVAL_MS: 'soon' });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(output().trim()).toBe('Invalid configuration: POLL_INTERVAL_MS must be a whole number, got "soon"');
  });

  it('refuses to serve simulated data in production: NODE_ENV=production needs CLEARTAX_BASE_URL', async () => {
    const { child, output } = startMain({ NODE_ENV: 'production' });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(output().trim()).toBe(
      'Invalid configuration: CLEARTAX_BASE_URL must be set when NODE_ENV=production: the embedded simulator serves simulated data',
    );
  });

  it('on SIGTERM with reads stuck upstream, gives them the drain, answers them UPSTREAM_UNAVAILABLE within SHUTDOWN_GRACE_MS and exits 0', async () => {
    const graceMs = 2000;
    const stuck = await startFakeUpstream(() => undefined); // accepts, never answers
    const { child, output } = startMain({
      CLEARTAX_BASE_URL: stuck.url,
      SHUTDOWN_GRACE_MS: String(graceMs),
      UPSTREAM_TIMEOUT_MS: '30000',
      REQUEST_DEADLINE_MS: '60000',
    });
    await expect.poll(output, { timeout: 15_000, interval: 50 }).toContain('GraphQL:');
    const url = /GraphQL:\s+(\S+)/.exec(output())![1]!;
    let killedAt = Infinity;
    const answers = Array.from({ length: 10 }, (_, i) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-Cleartax-Auth-Token': 'demo' },
        body: JSON.stringify({
          query: `{ uploadActivity(taxableEntityId: "${ENTITY}", activityId: "${i}2222222-3333-4444-8555-666666666666") { status } }`,
        }),
      }).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as { errors: { message: string; extensions: { code: string } }[] },
        afterSigtermMs: Date.now() - killedAt,
      })),
    );
    await expect.poll(() => stuck.requests.length, { timeout: 10_000 }).toBe(10);
    killedAt = Date.now();
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    const exitedAfterMs = Date.now() - killedAt;
    expect(code).toBe(0);
    for (const { status, body, afterSigtermMs } of await Promise.all(answers)) {
      expect(status).toBe(200);
      expect(body.errors[0]).toMatchObject({
        message: 'The gateway is shutting down',
        extensions: { code: 'UPSTREAM_UNAVAILABLE' },
      });
      // Not cut short: the reads had the drain, aborted only in its last fifth (at 1.6 s of 2 s).
      // A busy machine can only make this later.
      expect(afterSigtermMs).toBeGreaterThanOrEqual(1500);
      // Within the grace (2 s), with room for a busy machine; far sooner than the 10 s default.
      expect(afterSigtermMs).toBeLessThan(graceMs + 3000);
    }
    expect(exitedAfterMs).toBeLessThan(graceMs + 3000);
  });

  it('treats clients that hang up mid-request, or send a malformed body, as no error: nothing at error level, no stack on stderr', async () => {
    const { child, output } = startMain({ LOG_LEVEL: 'info' });
    await expect.poll(output, { timeout: 15_000, interval: 50 }).toContain('GraphQL:');
    const { port } = new URL(/GraphQL:\s+(\S+)/.exec(output())![1]!);
    await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) =>
          new Promise<void>((resolve) => {
            const socket = connectSocket(Number(port), '127.0.0.1', () => {
              // Headers promise a body that never fully comes; then the client is gone.
              socket.write(
                `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"query":`,
              );
              setTimeout(() => (i % 2 ? socket.destroy() : socket.resetAndDestroy()), 20);
            });
            socket.on('error', () => undefined);
            socket.on('close', () => resolve());
          }),
      ),
    );
    // And a client's malformed body: a JSON error for the client, no stack or body on stderr.
    const malformed = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{secret-ish',
    });
    expect(malformed.status).toBe(400);
    child.kill('SIGTERM');
    await once(child, 'exit');
    expect(output()).not.toContain('secret-ish');
    const lines = output().split('\n');
    expect(lines.filter((line) => /"level":(50|60)/.test(line))).toEqual([]);
    expect(output()).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });
});
