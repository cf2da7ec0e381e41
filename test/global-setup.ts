import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, REDIS_SERVER, ensureDebianPackage } from './helpers/apt.js';

/**
 * Once before every suite: the build (server and status board, when missing or
 * stale): the gateway serves the board at / in several suites, and one test starts
 * the compiled server; and Debian's chromium for the browser
 * tests and redis-server for the cluster tests, installed with apt when missing
 * (never skipped).
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts', '--if-stale'], {
    cwd: root,
    stdio: 'inherit',
  });
  ensureDebianPackage(CHROMIUM, 'chromium');
  ensureDebianPackage(REDIS_SERVER, 'redis-server');
}
