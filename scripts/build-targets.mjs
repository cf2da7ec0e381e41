// Plain JavaScript on purpose: `npm start` reads this (scripts/prestart.mjs) on a
// production host installed with `npm ci --omit=dev`, where tsx, tsc and vite are
// absent. scripts/build.ts uses the same definitions, so both agree on "stale".
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout this file belongs to. */
export const root = fileURLToPath(new URL('..', import.meta.url));

/** What `npm run build` makes: each output with the sources it is built from (paths relative to the root). */
export const targets = {
  server: {
    output: 'dist/server/main.js',
    sources: ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'],
  },
  web: {
    output: 'dist/web/index.html',
    sources: ['web/src', 'web/index.html', 'web/vite.config.ts', 'schema/generated', 'package-lock.json'],
  },
};

/** The devDependencies a build needs; `npm ci --omit=dev` leaves them out. */
export const buildTools = ['tsx', 'typescript', 'vite'];

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** Whether the target's output is missing, or older than any of its sources. */
export function isStale(target) {
  const output = join(root, target.output);
  if (!existsSync(output)) return true;
  return Math.max(...target.sources.map((source) => newest(join(root, source)))) > statSync(output).mtimeMs;
}

/** Whether the target's output exists at all. */
export function isBuilt(target) {
  return existsSync(join(root, target.output));
}

/** Whether every build tool is installed (a dev install), judged without running any of them. */
export function hasBuildTools() {
  return buildTools.every((name) => existsSync(join(root, 'node_modules', name, 'package.json')));
}
