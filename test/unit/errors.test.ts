import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ErrorCode, GatewayError, maskError } from '../../src/errors.js';
import { UpstreamError } from '../../src/upstream/upstream-error.js';

const located = (error: unknown) => new GraphQLError('wrapped', { path: ['uploadActivity'], originalError: error as Error });

describe('maskError', () => {
  it('gives an upstream error its code and upstream details', () => {
    const upstream = { httpStatus: 404, code: '404', message: 'No activity found for id x' };
    const error = new UpstreamError(ErrorCode.NOT_FOUND, 'No activity found for id x', { upstream, isRetryable: false });
    expect(maskError({ message: 'wrapped', path: ['uploadActivity'] }, located(error))).toEqual({
      message: 'No activity found for id x',
      path: ['uploadActivity'],
      extensions: { code: 'NOT_FOUND', upstream },
    });
  });

  it('passes gateway errors without upstream details', () => {
    const error = new GatewayError(ErrorCode.BAD_USER_INPUT, 'activityIds may list at most 2 ids, got 3');
    expect(maskError({ message: 'x' }, located(error)).extensions).toEqual({ code: 'BAD_USER_INPUT' });
  });

  it('keeps codes set by graphql-js and Apollo, minus any stack', () => {
    const formatted = { message: 'Variable "$a" got invalid value', extensions: { code: 'BAD_USER_INPUT', stacktrace: ['at x'] } };
    expect(maskError(formatted, new GraphQLError(formatted.message))).toEqual({ message: formatted.message, extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('masks anything else as INTERNAL_SERVER_ERROR with no details', () => {
    const secret = new Error('connect ECONNREFUSED http://internal:8080/?token=abc');
    const masked = maskError({ message: secret.message, path: ['uploadActivity'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }, located(secret));
    expect(masked).toEqual({ message: 'Internal server error', path: ['uploadActivity'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });
});
