import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createSimulator } from '../../src/simulator/server.js';

/**
 * The README's two start paths, as a newcomer and a deploy would run them, on a copy
 * of this checkout (tracked files as they are in the working tree: uncommitted
 * changes included; no node_modules, no dist):
 *
 * - a fresh dev machine: `npm ci && npm start` builds what is missing, then serves;
 * - production: `npm run build` on the build machine, then `npm ci --omit=dev` (no
 *   devDependencies: no tsx, no tsc, no vite) and the gateway started with
 *   `node --enable-source-maps dist/server/main.js`, and with `npm start`.
 *
 * Installs use the npm cache (`--prefer-offline`): two `npm ci` and a build take
 * one to two minutes.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const NPM_CI = ['ci', '--prefer-offline', '--no-audit', '--no-fund'];
const MINUTE = 60_000;

/** The caller's environment minus what a surrounding `npm test` or vitest set for itself. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => keep.has(name) || !/^(npm_|NODE_ENV$|NODE_OPTIONS$|VITEST)/i.test(name),
    ),
  );
  // Not the PATH entries of this checkout's node_modules/.bin (npm and npx add them): the copy has its own, or none.
  env.PATH = (env.PATH ?? '')
    .split(delimiter)
    .filter((entry) => !/node_modules[\\/]\.bin/.test(entry))
    .join(delimiter);
  return { ...env, ...extra };
}

/** Runs a command to completion; throws with the end of its output when it fails. */
function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd, env: cleanEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error)
          reject(
            new Error(
              `${command} ${args.join(' ')} failed (${error.code ?? error.signal}):\n${(stdout + stderr).slice(-4000)}`,
            ),
          );
        else resolve(stdout + stderr);
      },
    );
  });
}

interface Started {
  child: ChildProcess;
  output(): string;
  /** The GraphQL URL from the start-up banner, once it is printed (fails at once when the process ends first). */
  graphqlUrl(timeoutMs?: number): Promise<string>;
}

/** Starts a long-running command in its own process group; the test's end kills whatever is left of the group. */
function start(command: string, args: string[], cwd: string, env: Record<string, string>): Started {
  const child = spawn(command, args, {
    cwd,
    env: cleanEnv({ LOG_LEVEL: 'warn', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  onTestFinished(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += String(chunk)));
  child.stderr!.on('data', (chunk) => (out += String(chunk)));
  return {
    child,
    output: () => out,
    async graphqlUrl(timeoutMs = MINUTE) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = /GraphQL:\s+(\S+)/.exec(out);
        if (match) return match[1]!;
        // A failed start (a missing tool, a missing build) ends the process: say why at once.
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(
            `${command} ${args.join(' ')} ended (${child.exitCode ?? child.signalCode}) before serving:\n${out}`,
          );
        if (Date.now() > deadline)
          throw new Error(`${command} ${args.join(' ')} printed no GraphQL URL within ${timeoutMs} ms:\n${out}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

/** SIGTERM to the started process itself (npm, or the gateway), as a process manager sends it. */
async function stopWithSigterm(started: Started): Promise<number | null> {
  const exited = once(started.child, 'exit');
  started.child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

async function queryStatus(url: string, entity: string, activity: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      query: `{ uploadActivity(taxableEntityId: "${entity}", activityId: "${activity}") { status isTerminal } }`,
    }),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

/** A seeded PROCESSED activity from the banner of a gateway on its embedded simulator. */
function seededProcessed(output: string): [string, string] {
  const match = /\s([0-9a-f-]{36}) ([0-9a-f-]{36}) PROCESSED/.exec(output);
  expect(match, output).not.toBeNull();
  return [match![1]!, match![2]!];
}

describe('the README start paths, on a fresh copy of this checkout', () => {
  let dir = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-production-path-'));
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root }).toString().split('\0').filter(Boolean);
    let copied = 0;
    for (const file of tracked) {
      if (!existsSync(join(root, file))) continue; // deleted in the working tree, not yet committed
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      cpSync(join(root, file), join(dir, file));
      copied += 1;
    }
    expect(copied).toBeGreaterThan(50);
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);
    expect(existsSync(join(dir, 'dist'))).toBe(false);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'fresh dev machine: npm ci && npm start builds what is missing, serves a query, and exits 0 on SIGTERM',
    { timeout: 6 * MINUTE },
    async () => {
      await run('npm', NPM_CI, dir, 4 * MINUTE);
      const gateway = start('npm', ['start'], dir, { PORT: '0', HOST: '127.0.0.1', SIMULATOR_PORT: '0' });
      const url = await gateway.graphqlUrl(4 * MINUTE); // builds the server and the board first
      expect(gateway.output()).toContain('built the server into dist/server');
      expect(existsSync(join(dir, 'dist/server/main.js'))).toBe(true);
      await expect.poll(gateway.output, { timeout: 10_000 }).toContain('Seeded activities');
      const [entity, activity] = seededProcessed(gateway.output());
      expect(await queryStatus(url, entity, activity)).toEqual({
        status: 200,
        body: { data: { uploadActivity: { status: 'PROCESSED', isTerminal: true } } },
      });
      expect(await stopWithSigterm(gateway)).toBe(0);
    },
  );

  it(
    'production: npm run build, then npm ci --omit=dev; node dist/server/main.js and npm start serve without any devDependency',
    { timeout: 6 * MINUTE },
    async () => {
      // The build machine (devDependencies installed by the test before).
      await run('npm', ['run', 'build'], dir, 4 * MINUTE);
      expect(existsSync(join(dir, 'dist/server/main.js'))).toBe(true);
      expect(existsSync(join(dir, 'dist/web/index.html'))).toBe(true);
      // The host: runtime dependencies only.
      await run('npm', [...NPM_CI, '--omit=dev'], dir, 4 * MINUTE);
      for (const devTool of ['tsx', 'typescript', 'vite', 'vitest'])
        expect(existsSync(join(dir, 'node_modules', devTool)), devTool).toBe(false);
      expect(existsSync(join(dir, 'node_modules/express'))).toBe(true);

      // The production command, with NODE_ENV=production against a real upstream (a simulator in this process).
      const upstream = createSimulator({ host: '127.0.0.1', port: 0, stepMs: 0 });
      const upstreamUrl = await upstream.start();
      onTestFinished(() => upstream.stop());
      const finished = upstream.createActivity({ status: 'PROCESSED', isAuto: false });
      const production = start(process.execPath, ['--enable-source-maps', 'dist/server/main.js'], dir, {
        NODE_ENV: 'production',
        CLEARTAX_BASE_URL: upstreamUrl,
        PORT: '0',
        HOST: '127.0.0.1',
      });
      const productionUrl = await production.graphqlUrl();
      expect(
        await queryStatus(productionUrl, finished.taxableEntityId, finished.activityId, {
          'X-Cleartax-Auth-Token': 'a-callers-token',
        }),
      ).toEqual({
        status: 200,
        body: { data: { uploadActivity: { status: 'PROCESSED', isTerminal: true } } },
      });
      expect(upstream.stats.requests).toBe(1);
      expect((await fetch(productionUrl.replace(/\/graphql$/, '/'))).status).toBe(200); // the board, from dist/web
      expect(await stopWithSigterm(production)).toBe(0);

      // npm start on the same host: no build tool needed to decide that dist/ is current.
      const viaNpm = start('npm', ['start'], dir, { PORT: '0', HOST: '127.0.0.1', SIMULATOR_PORT: '0' });
      const npmUrl = await viaNpm.graphqlUrl();
      await expect.poll(viaNpm.output, { timeout: 10_000 }).toContain('Seeded activities');
      const [entity, activity] = seededProcessed(viaNpm.output());
      expect(await queryStatus(npmUrl, entity, activity)).toEqual({
        status: 200,
        body: { data: { uploadActivity: { status: 'PROCESSED', isTerminal: true } } },
      });
      expect(await stopWithSigterm(viaNpm)).toBe(0);
    },
  );
});
