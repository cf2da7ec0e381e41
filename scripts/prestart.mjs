// `npm start` runs this first. Plain JavaScript, so it runs where only the runtime
// dependencies are installed (`npm ci --omit=dev`): it decides without any build tool.
//
// - Everything in dist/ is current: nothing to do (a restart, or a production host).
// - Something is missing or stale and the build tools are installed (a dev machine):
//   build what is (scripts/build.ts --if-stale).
// - The build tools are absent (a production host): start the build that is there,
//   warning when it looks older than its sources; with no dist/server at all, stop
//   and say how to build it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { hasBuildTools, isBuilt, isStale, root, targets } from './build-targets.mjs';

const stale = Object.entries(targets).filter(([, target]) => isStale(target));

if (stale.length === 0) {
  console.log('dist/ is up to date');
} else if (hasBuildTools()) {
  const build = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/build.ts'), '--if-stale'], {
    cwd: root,
    stdio: 'inherit',
  });
  process.exit(build.status ?? 1);
} else if (!isBuilt(targets.server)) {
  console.error(
    `${targets.server.output} is missing and the build tools (devDependencies) are not installed.\n` +
      'Build on a machine with them (npm ci && npm run build) and copy dist/ here, or install them here (npm ci) and run npm start again.',
  );
  process.exit(1);
} else {
  for (const [name, target] of stale) {
    console.warn(
      isBuilt(target)
        ? `${target.output} is older than its sources, and the build tools (devDependencies) are not installed: starting the ${name} build that is there. Rebuild with npm run build where they are.`
        : `${target.output} is missing, and the build tools (devDependencies) are not installed: the gateway starts without it.`,
    );
  }
}
