/**
 * Child of bench/http.ts: the framework's own ceiling. A bare Apollo Server 5 on
 * express 5 with the gateway's SDL, whose resolvers return one constant snapshot:
 * no loader, no upstream, no limits. Prints its URL.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { DateTimeISOResolver, UUIDResolver } from 'graphql-scalars';
import { listen } from '../src/server/listen.js';

const typeDefs = readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8');
const activity = (taxableEntityId: string, activityId: string) => ({
  id: `UploadActivity:${taxableEntityId}:${activityId}`,
  activityId,
  taxableEntityId,
  status: 'PROCESSED',
  rawStatus: 'PROCESSED',
  errorMessage: null,
  queuedCount: 0,
  isTerminal: true,
  fetchedAt: new Date('2026-11-29T00:00:00Z'),
  isStale: false,
});
const apollo = new ApolloServer({
  typeDefs,
  resolvers: {
    UUID: UUIDResolver,
    DateTimeISO: DateTimeISOResolver,
    Query: {
      uploadActivity: (_: unknown, a: { taxableEntityId: string; activityId: string }) =>
        activity(a.taxableEntityId, a.activityId),
      uploadActivities: (_: unknown, a: { taxableEntityId: string; activityIds: string[] }) =>
        a.activityIds.map((id) => activity(a.taxableEntityId, id)),
    },
  },
});
await apollo.start();
const app = express();
app.use('/graphql', express.json(), expressMiddleware(apollo));
const server = createServer(app);
console.log(`BARE ${await listen(server, 0, '127.0.0.1')}/graphql`);
