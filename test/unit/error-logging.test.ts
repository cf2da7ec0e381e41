import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { createLogger } from '../../src/logger.js';
import { logOperationErrors } from '../../src/server/error-logging.js';

function capture() {
  const lines: { level: number; msg: string; [key: string]: unknown }[] = [];
  const logger = createLogger('debug', {
    write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]),
  });
  return { logger, lines };
}

/** What graphql-ws hands `onError` when `socket.send` rejects: the socket error wrapped as a GraphQLError's originalError. */
function socketWriteError(code: string): GraphQLError {
  const error = Object.assign(new Error(`write ${code}`), { code, errno: -32, syscall: 'write' });
  return new GraphQLError(error.message, { originalError: error });
}

describe('operation error logging', () => {
  it.each(['EPIPE', 'ECONNRESET'])(
    'logs a write that met a vanished client (%s) at debug as the client going away, with no stack',
    (code) => {
      const { logger, lines } = capture();
      logOperationErrors(logger, [socketWriteError(code)], {
        transport: 'ws',
        operationName: 'Watch',
        requestId: 'r-1',
      });
      expect(lines).toEqual([expect.objectContaining({ level: 20, msg: 'client went away', code, requestId: 'r-1' })]);
      expect(JSON.stringify(lines)).not.toContain('"stack"');
    },
  );

  it('still logs an unexpected error at error level with its cause', () => {
    const { logger, lines } = capture();
    logOperationErrors(logger, [new GraphQLError('boom', { originalError: new TypeError('boom') })], {
      transport: 'ws',
    });
    expect(lines).toEqual([
      expect.objectContaining({ level: 50, msg: 'operation failed', code: 'INTERNAL_SERVER_ERROR' }),
    ]);
  });
});
