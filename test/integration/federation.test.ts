import { readFile } from 'node:fs/promises';
import { parse } from 'graphql';
import { composeServices } from '@theguild/federation-composition';
import { describe, expect, it } from 'vitest';
import { ENTITY, TOKEN, startStack } from '../helpers/stack.js';
import { HS_SECRET, hsKey, sign } from '../helpers/jwt.js';

const OTHER_ENTITY = '22222222-3333-4444-8555-666666666666';
const subgraphSdl = () => readFile(new URL('../../schema/subgraph.graphql', import.meta.url), 'utf8');

/** A second team's subgraph that points at an upload by its id, as a supergraph would hold it. */
const SHIPMENTS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { shipment(id: ID!): Shipment }
  type Shipment @key(fields: "id") { id: ID! upload: UploadActivity }
  type UploadActivity @key(fields: "id", resolvable: false) { id: ID! }
`;

const ENTITIES = `query($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on UploadActivity { id activityId status } }
}`;

const representation = (taxableEntityId: string, activityId: string) => ({
  __typename: 'UploadActivity',
  id: `UploadActivity:${taxableEntityId}:${activityId}`,
});

describe('Apollo Federation subgraph (FEDERATION_SUBGRAPH=true)', () => {
  it('composes with a second subgraph that references UploadActivity by id, without any error', async () => {
    const result = composeServices([
      { name: 'uploads', typeDefs: parse(await subgraphSdl()) },
      { name: 'shipments', typeDefs: parse(SHIPMENTS) },
    ]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.supergraphSdl).toMatch(/type UploadActivity\s[^{]*@join__type\(graph: UPLOADS, key: "id"\)/);
    expect(result.supergraphSdl).toContain('uploadActivityStatusChanged');
  });

  it('answers _service { sdl } without credentials, as the emitted schema/subgraph.graphql', async () => {
    const { raw } = await startStack({ FEDERATION_SUBGRAPH: 'true' });
    const response = await raw({ query: '{ _service { sdl } }' });
    expect(response.status).toBe(200);
    expect(`${(response.json.data as { _service: { sdl: string } })._service.sdl}\n`).toBe(await subgraphSdl());
  });

  it('resolves 100 representations of 20 activities with 20 upstream reads, in order', async () => {
    const { raw, simulator } = await startStack({ FEDERATION_SUBGRAPH: 'true' });
    const ids = Array.from(
      { length: 20 },
      () =>
        simulator.createActivity({ taxableEntityId: ENTITY, status: 'QUEUED', queuedCount: 2, isAuto: false })
          .activityId,
    );
    const asked = Array.from({ length: 100 }, (_, i) => ids[i % 20]!);
    const response = await raw(
      { query: ENTITIES, variables: { representations: asked.map((id) => representation(ENTITY, id)) } },
      { 'X-Cleartax-Auth-Token': TOKEN },
    );
    expect(response.json.errors).toBeUndefined();
    const entities = (response.json.data as { _entities: { activityId: string; status: string }[] })._entities;
    expect(entities.map((e) => e.activityId)).toEqual(asked);
    expect(entities.every((e) => e.status === 'QUEUED')).toBe(true);
    expect(simulator.stats.requests).toBe(20);
  });

  it('fails only its own item: a malformed id is null with BAD_USER_INPUT, and nothing of it reaches upstream', async () => {
    const { raw, simulator } = await startStack({ FEDERATION_SUBGRAPH: 'true' });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, isAuto: false });
    const response = await raw(
      {
        query: ENTITIES,
        variables: {
          representations: [
            representation(ENTITY, a.activityId),
            { __typename: 'UploadActivity', id: 'UploadActivity:not-a-uuid' },
          ],
        },
      },
      { 'X-Cleartax-Auth-Token': TOKEN },
    );
    const entities = (response.json.data as { _entities: ({ activityId: string } | null)[] })._entities;
    expect(entities[0]?.activityId).toBe(a.activityId);
    expect(entities[1]).toBeNull();
    expect(response.json.errors).toEqual([
      expect.objectContaining({ path: ['_entities', 1], extensions: { code: 'BAD_USER_INPUT' } }),
    ]);
    expect(simulator.stats.requests).toBe(1);
  });

  it("nulls an entity outside the caller's JWT claim with FORBIDDEN, and reads the allowed one", async () => {
    const { raw, simulator } = await startStack({
      FEDERATION_SUBGRAPH: 'true',
      AUTH_MODE: 'jwt',
      AUTH_JWT_SECRET: HS_SECRET,
      CLEARTAX_AUTH_TOKEN: TOKEN,
    });
    const mine = simulator.createActivity({ taxableEntityId: ENTITY, isAuto: false });
    const theirs = simulator.createActivity({ taxableEntityId: OTHER_ENTITY, isAuto: false });
    const jwt = await sign({ sub: 'router-user', taxable_entity_ids: [ENTITY] }, hsKey(), 'HS256');
    const response = await raw(
      {
        query: ENTITIES,
        variables: {
          representations: [representation(ENTITY, mine.activityId), representation(OTHER_ENTITY, theirs.activityId)],
        },
      },
      { authorization: `Bearer ${jwt}` },
    );
    const entities = (response.json.data as { _entities: ({ activityId: string } | null)[] })._entities;
    expect(entities[0]?.activityId).toBe(mine.activityId);
    expect(entities[1]).toBeNull();
    expect(response.json.errors).toEqual([
      expect.objectContaining({ path: ['_entities', 1], extensions: { code: 'FORBIDDEN' } }),
    ]);
    expect(simulator.stats.requests).toBe(1);
  });

  it('counts representations like activityIds: past MAX_ACTIVITY_IDS, BAD_USER_INPUT and no upstream call', async () => {
    const { raw, simulator } = await startStack({ FEDERATION_SUBGRAPH: 'true', MAX_ACTIVITY_IDS: '3' });
    const a = simulator.createActivity({ taxableEntityId: ENTITY, isAuto: false });
    const response = await raw(
      {
        query: ENTITIES,
        variables: { representations: Array.from({ length: 4 }, () => representation(ENTITY, a.activityId)) },
      },
      { 'X-Cleartax-Auth-Token': TOKEN },
    );
    expect(response.status).toBe(400);
    expect(response.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(simulator.stats.requests).toBe(0);
  });

  it('leaves the public schema without _service and _entities when off', async () => {
    const { raw } = await startStack();
    const response = await raw({ query: '{ _service { sdl } }' });
    expect(response.status).toBe(400);
    expect(response.json.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
