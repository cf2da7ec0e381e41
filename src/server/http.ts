import type { Server } from 'node:http';
import express, { type Express } from 'express';
import type { GraphQLSchema } from 'graphql';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import type { Logger } from 'pino';
import { maskError } from '../errors.js';
import { logOperationErrors } from './error-logging.js';
import type { RequestContext } from '../context.js';

export interface ApolloOptions {
  schema: GraphQLSchema;
  httpServer: Server;
  sandboxEnabled: boolean;
  logger: Logger;
  /** More plugins (the WebSocket server's drain hook). */
  plugins?: ApolloServerPlugin<RequestContext>[];
}

/**
 * Apollo Server for GraphQL over HTTP: CSRF prevention on, errors masked by the
 * shared `maskError`, Sandbox as landing page unless disabled, and the HTTP server
 * drained on stop. Signals are handled by main.ts, not by Apollo.
 */
export function createApolloServer(options: ApolloOptions): ApolloServer<RequestContext> {
  const { logger } = options;
  const errorLogging: ApolloServerPlugin<RequestContext> = {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, operationName }) {
          logOperationErrors(logger, errors, { transport: 'http', operationName });
        },
      };
    },
  };
  return new ApolloServer<RequestContext>({
    schema: options.schema,
    csrfPrevention: true,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false,
    logger,
    formatError: maskError,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: options.httpServer }),
      options.sandboxEnabled
        ? ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false })
        : ApolloServerPluginLandingPageDisabled(),
      errorLogging,
      ...(options.plugins ?? []),
    ],
  });
}

/** Mounts GraphQL at `/graphql` after Apollo has started. */
export function mountGraphQL(
  app: Express,
  apollo: ApolloServer<RequestContext>,
  context: (headers: Record<string, string | string[] | undefined>) => RequestContext,
): void {
  app.use(
    '/graphql',
    express.json({ limit: '100kb' }),
    expressMiddleware(apollo as unknown as ApolloServer<BaseContext & RequestContext>, {
      context: async ({ req }) => context(req.headers),
    }),
  );
}
