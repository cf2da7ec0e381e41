import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { printAppSchema, printAppSubgraphSchema } from '../src/schema-sdl.js';

/**
 * `npm run schema:emit` writes schema/schema.graphql and schema/subgraph.graphql from the code. Staleness is
 * caught by test/unit/schema.test.ts, which compares the same output with the
 * checked-in file.
 */
const target = fileURLToPath(new URL('../schema/schema.graphql', import.meta.url));
await writeFile(target, await printAppSchema());
console.log(`wrote ${target}`);
// The same schema as a Federation subgraph (FEDERATION_SUBGRAPH=true), for `rover subgraph publish`.
const subgraph = fileURLToPath(new URL('../schema/subgraph.graphql', import.meta.url));
await writeFile(subgraph, await printAppSubgraphSchema());
console.log(`wrote ${subgraph}`);
