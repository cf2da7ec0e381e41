import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/**
 * `npm run build`: the server (tsc, with source maps) into dist/server and the status
 * board (Vite) into dist/web. With `--if-stale` (what `npm start` runs first) each is
 * built only when its output is missing or older than any of its sources, so a fresh
 * clone builds once and a restart does not.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const at = (path: string) => join(root, path);

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

function isStale(output: string, sources: string[]): boolean {
  return !existsSync(at(output)) || Math.max(...sources.map((s) => newest(at(s)))) > statSync(at(output)).mtimeMs;
}

const onlyIfStale = process.argv.includes('--if-stale');
const only = process.argv.includes('--web') ? 'web' : process.argv.includes('--server') ? 'server' : 'both';

if (only !== 'web') {
  if (!onlyIfStale || isStale('dist/server/main.js', ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'])) {
    execFileSync(process.execPath, [at('node_modules/typescript/bin/tsc'), '-p', at('tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
    console.log('built the server into dist/server');
  } else console.log('server is up to date (dist/server)');
}
if (only !== 'server') {
  if (!onlyIfStale || isStale('dist/web/index.html', ['web/src', 'web/index.html', 'web/vite.config.ts', 'schema/generated', 'package-lock.json'])) {
    await build({ configFile: at('web/vite.config.ts'), logLevel: 'warn' });
    console.log('built the web app into dist/web');
  } else console.log('web app is up to date (dist/web)');
}
