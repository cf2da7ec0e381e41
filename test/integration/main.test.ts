import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function startMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.on('data', (chunk) => (out += String(chunk)));
  child.stderr.on('data', (chunk) => (out += String(chunk)));
  return { child, output: () => out };
}

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
    expect(body.data.uploadActivity).toMatchObject({ status: 'PROCESSED', rawStatus: 'PROCESSED', queuedCount: 0, isTerminal: true });
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
});
