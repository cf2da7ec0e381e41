import 'reflect-metadata';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { printAppSchema } from '../src/schema-sdl.js';

/**
 * `npm run schema:emit` writes schema/schema.graphql from the code;
 * `npm run check:schema` (part of `npm test`) fails when the checked-in file is stale.
 */
const target = fileURLToPath(new URL('../schema/schema.graphql', import.meta.url));
const sdl = await printAppSchema();

if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current !== sdl) {
    console.error('schema/schema.graphql is stale: run `npm run schema:emit` and commit the result.');
    process.exit(1);
  }
  console.log('schema/schema.graphql is up to date.');
} else {
  await writeFile(target, sdl);
  console.log(`wrote ${target}`);
}
