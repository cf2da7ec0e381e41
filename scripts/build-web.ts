import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/**
 * `npm run build:web` builds the status board into web/dist; with `--if-stale`
 * (what `npm start` runs first) only when web/dist is missing or older than any of
 * its sources, so a fresh clone builds once and a restart does not.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const output = join(root, 'web/dist/index.html');
const sources = ['web/src', 'web/index.html', 'web/vite.config.ts', 'schema/generated', 'package-lock.json'].map((p) => join(root, p));

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const isStale = !existsSync(output) || Math.max(...sources.map(newest)) > statSync(output).mtimeMs;
if (process.argv.includes('--if-stale') && !isStale) {
  console.log('web app is up to date (web/dist)');
} else {
  await build({ configFile: join(root, 'web/vite.config.ts'), logLevel: 'warn' });
  console.log('built the web app into web/dist');
}
