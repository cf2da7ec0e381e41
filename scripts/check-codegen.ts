import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, loadCodegenConfig } from '@graphql-codegen/cli';

/**
 * `npm run check:codegen` (part of `npm test`): generates the typed documents in
 * memory from codegen.yml and fails when the checked-in output differs, or when an
 * operation no longer validates against schema/schema.graphql (codegen throws).
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const { config } = await loadCodegenConfig({ configFilePath: join(root, 'codegen.yml') });
const outputs = await generate({ ...config, cwd: root, silent: true }, false);

const stale: string[] = [];
const expected = new Set<string>();
for (const { filename, content } of outputs) {
  const path = resolve(root, filename);
  expected.add(path);
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current !== content) stale.push(relative(root, path));
}
for (const target of Object.keys(config.generates)) {
  const dir = resolve(root, target);
  const files = await readdir(dir).catch(() => [] as string[]);
  for (const file of files)
    if (!expected.has(join(dir, file))) stale.push(`${relative(root, join(dir, file))} (no longer generated)`);
}
if (stale.length > 0) {
  console.error(
    `Generated GraphQL documents are stale: ${stale.join(', ')}. Run \`npm run codegen\` and commit the result.`,
  );
  process.exit(1);
}
console.log(`Generated GraphQL documents are up to date (${outputs.length} files).`);
