import type { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode } from '../domain/index.js';
import { errorCodeOf } from '../errors.js';

/**
 * Logs the errors of one operation the same way for HTTP (Apollo plugin) and
 * WebSocket (graphql-ws hooks): unexpected ones at error level with their cause,
 * expected ones (bad input, upstream answers) at debug with their code only.
 */
export function logOperationErrors(
  logger: Logger,
  errors: readonly GraphQLError[],
  fields: { transport: 'http' | 'ws'; operationName?: string | null; requestId?: string | undefined },
): void {
  for (const error of errors) {
    const code = errorCodeOf(error);
    const context = { ...fields, code, path: error.path };
    if (code === ErrorCode.INTERNAL_SERVER_ERROR) logger.error({ ...context, err: error.originalError ?? error }, 'operation failed');
    else logger.debug(context, error.message);
  }
}
