import { execFileSync } from 'node:child_process';
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';
import { isStale, root, targets } from './build-targets.mjs';

/**
 * `npm run build`: the server (tsc, with source maps) into dist/server and the status
 * board (Vite) into dist/web. With `--if-stale` (what `npm start` runs first on a
 * dev machine, through scripts/prestart.mjs) each is built only when its output is
 * missing or older than any of its sources, so a fresh clone builds once and a
 * restart does not. Which sources count is in scripts/build-targets.mjs.
 */
const at = (path: string) => join(root, path);

const onlyIfStale = process.argv.includes('--if-stale');
const only = process.argv.includes('--web') ? 'web' : process.argv.includes('--server') ? 'server' : 'both';

if (only !== 'web') {
  if (!onlyIfStale || isStale(targets.server)) {
    execFileSync(process.execPath, [at('node_modules/typescript/bin/tsc'), '-p', at('tsconfig.build.json')], {
      cwd: root,
      stdio: 'inherit',
    });
    // tsc (incremental) rewrites only what changed: date the output that stands for the build.
    const now = new Date();
    utimesSync(at(targets.server.output), now, now);
    console.log('built the server into dist/server');
  } else console.log('server is up to date (dist/server)');
}
if (only !== 'server') {
  if (!onlyIfStale || isStale(targets.web)) {
    await build({ configFile: at('web/vite.config.ts'), logLevel: 'warn' });
    console.log('built the web app into dist/web');
  } else console.log('web app is up to date (dist/web)');
}
