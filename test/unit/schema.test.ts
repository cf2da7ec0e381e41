import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { printAppSchema, printAppSubgraphSchema } from '../../src/schema-sdl.js';

describe('schema/schema.graphql', () => {
  it('matches the schema the code builds (run `npm run schema:emit` when this fails)', async () => {
    const checkedIn = await readFile(new URL('../../schema/schema.graphql', import.meta.url), 'utf8');
    expect(await printAppSchema()).toBe(checkedIn);
  });

  it('schema/subgraph.graphql matches the Federation subgraph the code builds (run `npm run schema:emit` when this fails)', async () => {
    const checkedIn = await readFile(new URL('../../schema/subgraph.graphql', import.meta.url), 'utf8');
    const subgraph = await printAppSubgraphSchema();
    expect(subgraph).toBe(checkedIn);
    expect(subgraph).toMatch(/type UploadActivity\s+@key\(fields: "id"\)/);
  });

  it('keeps the contract types and enum values', async () => {
    const sdl = await printAppSchema();
    expect(sdl).toMatch(
      /enum UploadStatus \{[^}]*INIT[^}]*UPLOADED[^}]*QUEUED[^}]*PROCESSING[^}]*PROCESSED[^}]*ABORTED[^}]*UNKNOWN/s,
    );
    expect(sdl).toContain('uploadActivity(');
    expect(sdl).toContain('): UploadActivity\n');
    expect(sdl).toContain('): [UploadActivity]!\n');
  });
});
