import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `src/main.ts` as `npm run dev` runs it, in a child process on free ports (the
 * gateway and its embedded simulator), with only `PATH` and `env` in its environment.
 * Killed with the test if it is still running; `output()` is its stdout and stderr so far.
 */
export function startMain(env: Record<string, string>): {
  child: ChildProcessByStdio<null, Readable, Readable>;
  output: () => string;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: '0', SIMULATOR_PORT: '0', LOG_LEVEL: 'warn', ...env },
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
