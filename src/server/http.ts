import type { Server } from 'node:http';
import express, { type Express, type Request } from 'express';
import type { GraphQLSchema } from 'graphql';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import type { Logger } from 'pino';
import { maskError } from '../errors.js';
import { logOperationErrors } from './error-logging.js';
import type { OperationPreparer } from './operation.js';

export interface ApolloOptions<TContext extends BaseContext> {
  schema: GraphQLSchema;
  httpServer: Server;
  /** The shared parse/validate step (the same one the WebSocket path uses). */
  prepare: OperationPreparer;
  /** Apollo Sandbox as the landing page at /graphql (SANDBOX_ENABLED). @default none: required */
  sandboxEnabled: boolean;
  logger: Logger;
  /** More plugins (the WebSocket server's drain hook). @default [] */
  plugins?: ApolloServerPlugin<TContext>[];
}

/**
 * Apollo Server for GraphQL over HTTP: CSRF prevention on, the shared document
 * cache and validation rules, errors masked by the shared `maskError`, Sandbox as
 * landing page unless disabled, and the HTTP server drained on stop. Signals are
 * handled by main.ts, not by Apollo.
 */
export function createApolloServer<TContext extends BaseContext>(options: ApolloOptions<TContext>): ApolloServer<TContext> {
  const { logger } = options;
  const errorLogging: ApolloServerPlugin<TContext> = {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, operationName }) {
          logOperationErrors(logger, errors, { transport: 'http', operationName });
        },
      };
    },
  };
  return new ApolloServer<TContext>({
    schema: options.schema,
    documentStore: options.prepare.documentStore,
    validationRules: options.prepare.validationRules,
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

/** Mounts GraphQL at `/graphql` after Apollo has started; `context` builds each operation's context from its request. */
export function mountGraphQL<TContext extends BaseContext>(
  app: Express,
  apollo: ApolloServer<TContext>,
  context: (request: Request) => TContext,
): void {
  app.use(
    '/graphql',
    express.json({ limit: '100kb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => context(req),
    }),
  );
}
