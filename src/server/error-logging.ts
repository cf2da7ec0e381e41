import type { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode } from '../domain/index.js';
import type { Transport } from './access-log.js';
import { errorCodeOf } from '../errors.js';

/** Socket errors that mean the client went away mid-write: nothing is wrong on the server. */
const CLIENT_GONE_CODES = new Set([
  'EPIPE',
  'ECONNRESET',
  'ECONNABORTED',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
]);

/** Whether these errors only say that the client vanished (a write met a closed socket). */
export function isClientGone(errors: readonly GraphQLError[]): boolean {
  return (
    errors.length > 0 &&
    errors.every((error) => {
      const code = (error.originalError as NodeJS.ErrnoException | undefined)?.code;
      return typeof code === 'string' && CLIENT_GONE_CODES.has(code);
    })
  );
}

/**
 * Logs the errors of one operation the same way for HTTP (Apollo plugin) and
 * WebSocket (graphql-ws hooks): unexpected ones at error level with their cause,
 * expected ones (bad input, upstream answers) at debug with their code only, and a
 * client that vanished mid-write at debug as just that.
 */
export function logOperationErrors(
  logger: Logger,
  errors: readonly GraphQLError[],
  fields: { transport: Transport; operationName?: string | null; requestId?: string | undefined },
): void {
  if (isClientGone(errors)) {
    logger.debug({ ...fields, code: (errors[0]!.originalError as NodeJS.ErrnoException).code }, 'client went away');
    return;
  }
  for (const error of errors) {
    const code = errorCodeOf(error);
    const context = { ...fields, code, path: error.path };
    if (code === ErrorCode.INTERNAL_SERVER_ERROR)
      logger.error({ ...context, err: error.originalError ?? error }, 'operation failed');
    else logger.debug(context, error.message);
  }
}
