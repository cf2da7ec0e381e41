import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Makes sure a Debian package's binary is there, installing the package with apt
 * when it is missing (the tests run as root on a fresh machine). Fails loudly,
 * naming the package, when it cannot: no test is ever skipped for a missing binary.
 */
export function ensureDebianPackage(binary: string, debianPackage: string): void {
  if (existsSync(binary)) return;
  try {
    execFileSync('apt-get', ['update'], { stdio: 'ignore', timeout: 240_000 });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', debianPackage], {
      stdio: 'ignore',
      timeout: 480_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (error) {
    throw new Error(
      `These tests need the Debian package "${debianPackage}" (${binary}); installing it with apt-get failed: ${(error as Error).message}`,
    );
  }
  if (!existsSync(binary)) throw new Error(`apt-get installed "${debianPackage}", but ${binary} is still missing`);
}

export const CHROMIUM = '/usr/bin/chromium';
export const REDIS_SERVER = '/usr/bin/redis-server';
