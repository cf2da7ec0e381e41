import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, REDIS_SERVER, ensureDebianPackage } from './helpers/apt.js';

/**
 * Once before every suite: the status board built (when missing or stale), which
 * the gateway serves at / in several suites; and Debian's chromium for the browser
 * tests and redis-server for the cluster tests, installed with apt when missing
 * (never skipped).
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build-web.ts', '--if-stale'], { cwd: root, stdio: 'inherit' });
  ensureDebianPackage(CHROMIUM, 'chromium');
  ensureDebianPackage(REDIS_SERVER, 'redis-server');
}
